#!/bin/sh
# Runs nginx in the foreground on 127.0.0.1:PORT (the first argument). nginx takes no listen port on
# its command line, so this writes its configuration into a fresh directory under $TMPDIR (with the
# file /slow serves) and then execs nginx: the process draincheck signals is nginx's master itself.
set -eu
port="$1"
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/realworld-nginx.XXXXXX")
chmod 755 "$dir"   # nginx workers run as nobody when started as root
mkdir "$dir/www"
head -c 40000 /dev/zero > "$dir/www/big"
sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/nginx.conf.in" > "$dir/nginx.conf"
exec nginx -p "$dir" -c "$dir/nginx.conf" -e stderr
