# A PSGI app for Starman with one slow route: `starman --listen 127.0.0.1:PORT app.psgi`.
# The slow route sleeps until its deadline even if a signal interrupts the sleep (Starman's workers
# get SIGHUP on a graceful stop, and a plain sleep would return early).
use Time::HiRes qw(sleep time);
sub {
    my $env = shift;
    if ($env->{PATH_INFO} eq "/slow") {
        my $until = time + 0.8;
        sleep($until - time) while time < $until;
    }
    [200, ["Content-Type" => "text/plain", "Content-Length" => 3], ["ok\n"]];
};
