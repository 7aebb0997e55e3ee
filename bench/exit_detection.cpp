// How long after a target's exit does the supervisor know? The child stamps CLOCK_MONOTONIC on its
// last line and exits at once; the supervisor stamps the exit in its pidfd wait handler. Both use
// the same clock (std::chrono::steady_clock is CLOCK_MONOTONIC on Linux).
//   exit_detection [runs]        prints the median, p99 and max detection latency
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <time.h>
#include <unistd.h>

using namespace draincheck;

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "--child") {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        std::printf("%lld\n", (long long)ts.tv_sec * 1'000'000'000LL + ts.tv_nsec);
        std::fflush(stdout);
        _exit(0);
    }
    int runs = argc > 1 ? std::stoi(argv[1]) : 200;
    std::vector<double> latencies_us;
    for (int i = 0; i < runs; ++i) {
        boost::asio::io_context io;
        RunClock clock;
        LaunchSpec spec;
        spec.argv = {"/proc/self/exe", "--child"};
        spec.argv[0] = std::string(realpath("/proc/self/exe", nullptr));
        Supervisor sup(io, clock, spec);
        ExitInfo exit;
        bool closed = false, exited = false;
        sup.start([&](const ExitInfo& e) { exit = e; exited = true; });
        sup.on_logs_closed([&] { closed = true; });
        while (!(exited && closed)) io.run_one();
        auto tail = sup.log_tail();
        if (tail.empty()) continue;
        int64_t child_ns = std::stoll(tail.front().text);
        int64_t detected_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  clock.at(exit.at_ns).time_since_epoch()).count();
        latencies_us.push_back(double(detected_ns - child_ns) / 1000.0);
    }
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) { return latencies_us[size_t(p / 100.0 * double(latencies_us.size() - 1))]; };
    std::printf("exit detection latency over %zu exits: median %.0f us, p99 %.0f us, max %.0f us (goal < 1 ms)\n",
                latencies_us.size(), pct(50), pct(99), latencies_us.back());
}
