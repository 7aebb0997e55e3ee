#!/usr/bin/env bash
# Builds the container test images, offline, from what is installed on this machine: no registry is
# ever asked for anything (no pull, no remote FROM). Each image is tagged draincheck-test/<name>:latest
# and labelled draincheck.content=<sha256 of its input files and its recipe>; an image whose tag
# already carries the right label is not rebuilt.
#   targets/containers/build-images.sh [--build-dir DIR]
#     --build-dir DIR   the CMake build tree holding targets/sample_service (default: <repo>/build)
# How each image behaves on `docker stop`: targets/containers/README.md.
#
# How: a root filesystem is staged under <build-dir>/container-images/<name>/ (binaries copied with
# the libraries `ldd` names, at the same paths) and turned into an image with `docker import`; the
# Node app images are small layers on top of draincheck-test/node-base (legacy `docker build`, which
# needs no registry for a FROM that is already local, and is the only offline way to set STOPSIGNAL).
# Input hashes are remembered by (path, size, mtime, inode) in <build-dir>/container-images/input-hashes
# so an up-to-date run does not read the 100 MB node binary again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
apps=$here/apps
build_dir=$repo/build

usage() { sed -n '6,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "build-images.sh: $*" >&2; exit 1; }

while (($#)); do
  case $1 in
    --build-dir) (($# >= 2)) || { usage >&2; exit 2; }; build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
build_dir=$(realpath -m -- "$build_dir")
state=$build_dir/container-images

command -v docker >/dev/null ||
  die "docker is not installed (Debian: apt-get install docker.io; ./setup.sh does it)"
need_daemon() {
  local err
  err=$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null) ||
    die "the Docker daemon is not reachable: start dockerd (as root: nohup dockerd >/tmp/dockerd.log 2>&1 &)
docker said: $err"
}

images=(node-base node-graceful node-no-handler node-shell-form node-stopsignal-quit node-npm-start
        sample-service redis)
repo_prefix=draincheck-test/   # each image is $repo_prefix<name>:latest

# ---- the recipes ---------------------------------------------------------------------------------
# Per image <name>: inputs_<name> prints its inputs, one a line: a path (a file or a directory, hashed
# by content) or "image <other>" (the image it is built FROM, whose own hash goes into this one).
# build_<name> DIR TAG LABEL builds it, staging in DIR. The text of both functions and of the helpers
# goes into the hash.

PATH_ENV='PATH=/usr/local/bin:/usr/bin:/bin'

# The Node base: node, dash as /bin/sh, /etc/passwd and /etc/group, a writable /tmp. CMD prints node's
# version; every app image sets its own.
inputs_node_base() { binary_inputs /usr/bin/node; binary_inputs /usr/bin/dash; }
build_node_base() {
  local rootfs=$1/rootfs
  new_rootfs "$rootfs"
  add_binary "$rootfs" /usr/bin/node /usr/bin/node
  import_rootfs "$rootfs" "$2" "$3" -c "ENV $PATH_ENV" -c 'ENV PORT=8080' -c 'WORKDIR /app' \
    -c 'CMD ["node", "--version"]'
}

# Exec form: node is PID 1 and gets SIGTERM; graceful.js drains and exits 0.
inputs_node_graceful() { echo "image node-base"; echo "$apps/routes.js"; echo "$apps/graceful.js"; }
build_node_graceful() {
  node_app "$@" routes.js graceful.js <<'EOF'
CMD ["node", "/app/graceful.js"]
EOF
}

# Exec form, no handler: as PID 1, SIGTERM is dropped by the kernel; SIGKILL at the grace (137).
inputs_node_no_handler() { echo "image node-base"; echo "$apps/routes.js"; echo "$apps/no-handler.js"; }
build_node_no_handler() {
  node_app "$@" routes.js no-handler.js <<'EOF'
CMD ["node", "/app/no-handler.js"]
EOF
}

# Shell form: PID 1 is dash (`/bin/sh -c "node /app/graceful.js"`, dash forks node instead of
# exec'ing it) and has no TERM handler, so the kernel drops SIGTERM; node never sees it (137).
inputs_node_shell_form() { echo "image node-base"; echo "$apps/routes.js"; echo "$apps/graceful.js"; }
build_node_shell_form() {
  node_app "$@" routes.js graceful.js <<'EOF'
CMD node /app/graceful.js
EOF
}

# docker stop sends SIGQUIT, which graceful.js does not handle: dropped as for PID 1 (137).
inputs_node_stopsignal_quit() { echo "image node-base"; echo "$apps/routes.js"; echo "$apps/graceful.js"; }
build_node_stopsignal_quit() {
  node_app "$@" routes.js graceful.js <<'EOF'
STOPSIGNAL SIGQUIT
CMD ["node", "/app/graceful.js"]
EOF
}

# `npm start`: npm (PID 1) -> sh -c "node graceful.js" -> node. npm is the one installed here, with
# /usr/bin/npm -> npm-cli.js (#!/usr/bin/env node, hence env) like in the official node images. The
# update notifier is off: nothing may try to leave the machine.
inputs_node_npm_start() {
  [ -n "$npm_dir" ] || die "npm is not installed (/usr/lib/node_modules/npm)"
  echo "image node-base"; echo "$apps/routes.js"; echo "$apps/graceful.js"; echo "$apps/package.json"
  binary_inputs /usr/bin/env; echo "$npm_dir"
}
build_node_npm_start() {
  local rootfs=$1/ctx/rootfs
  add_binary "$rootfs" /usr/bin/env /usr/bin/env
  mkdir -p "$rootfs/usr/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  node_app "$@" routes.js graceful.js package.json <<'EOF'
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
CMD ["npm", "start"]
EOF
}

# The C++ sample service (graceful by default; --mode picks a broken one). A scenario runs it with its
# own arguments (`--port {port}` ...), replacing the CMD.
inputs_sample_service() {
  [ -x "$sample_service" ] ||
    die "no $sample_service: build it first (cmake --build $build_dir --target sample_service)"
  binary_inputs "$sample_service"; binary_inputs /usr/bin/dash
}
build_sample_service() {
  local rootfs=$1/rootfs
  new_rootfs "$rootfs"
  add_binary "$rootfs" "$sample_service" /app/sample_service
  import_rootfs "$rootfs" "$2" "$3" -c "ENV $PATH_ENV" -c 'WORKDIR /app' \
    -c 'CMD ["/app/sample_service", "--port", "8080"]'
}

# Redis from the Debian package, on loopback, persisting nothing; SIGTERM shuts it down (exit 0).
inputs_redis() { binary_inputs /usr/bin/redis-server; binary_inputs /usr/bin/dash; }
build_redis() {
  local rootfs=$1/rootfs
  new_rootfs "$rootfs"
  add_binary "$rootfs" /usr/bin/redis-server /usr/bin/redis-server
  mkdir -p "$rootfs/data"
  import_rootfs "$rootfs" "$2" "$3" -c "ENV $PATH_ENV" -c 'WORKDIR /data' \
    -c 'CMD ["redis-server", "--port", "6379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]'
}

# ---- helpers (part of every recipe) --------------------------------------------------------------

# A program and the libraries the dynamic loader would load for it (the absolute paths ldd prints),
# remembered by the program's path, size, mtime and inode (a library's contents are hashed as input).
binary_inputs() {
  local key libs
  if [ -z "${libs_of[$1]:-}" ]; then
    key="ldd ${stat_of[$1]:-$(stat -L -c '%n %s %Y %i' -- "$1")}"
    [ -n "${cached[$key]:-}" ] || remember "$key" "$(ldd "$1" |
      awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' | paste -sd,)"
    libs_of[$1]=${cached[$key]}
    used[$key]=1
  fi
  IFS=, read -ra libs <<<"${libs_of[$1]}"
  printf '%s\n' "$1" "${libs[@]}"
}

# Copies program SRC to DEST in ROOTFS, and its libraries to the paths ldd names (symlinks resolved).
add_binary() {
  local rootfs=$1 src=$2 dest=$3 lib
  mkdir -p "$rootfs$(dirname "$dest")"
  cp -L "$src" "$rootfs$dest"
  while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done < <(binary_inputs "$src" | tail -n +2)
}

# The skeleton every image has: dash as /bin/sh, root and nobody, a writable /tmp, /root.
new_rootfs() {
  local rootfs=$1
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,etc,root,app,usr/local/bin}
  install -d -m 1777 "$rootfs/tmp"
  add_binary "$rootfs" /usr/bin/dash /usr/bin/dash
  ln -s /usr/bin/dash "$rootfs/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
    >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
}

# ROOTFS TAG LABEL [docker import -c options...]
import_rootfs() {
  local rootfs=$1 tag=$2 label=$3
  shift 3
  tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
    docker import "$@" -c "LABEL $label" - "$tag" >/dev/null
}

# DIR TAG LABEL FILE... < Dockerfile lines: an image FROM node-base with FILEs (from apps/) in /app and
# whatever DIR/ctx/rootfs holds copied to /.
node_app() {
  local dir=$1 tag=$2 label=$3 file
  shift 3
  mkdir -p "$dir/ctx/rootfs/app"
  for file in "$@"; do cp "$apps/$file" "$dir/ctx/rootfs/app/"; done
  { echo "FROM ${repo_prefix}node-base:latest"; echo "COPY rootfs/ /"; cat; } >"$dir/ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build --quiet --label "$label" -t "$tag" "$dir/ctx" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log" >&2; return 1; }
}

helpers=(binary_inputs add_binary new_rootfs import_rootfs node_app)

# ---- content hashes ------------------------------------------------------------------------------
# An image's content hash is the sha256 of its manifest, $state/<name>/manifest: the text of its recipe,
# the manifest of each image it is built FROM, and the hash of its input files' contents with their
# paths (directories: every file in them; symlinks: their targets; inputs listed in $state/<name>/inputs).
# Remembered across runs in $state/input-hashes ("value key" lines): that files hash, under a key made
# of every input file's path, size, mtime and inode; and the libraries ldd names for a program. An
# up-to-date run starts only a handful of processes (each takes tens of ms on a busy machine).

npm_dir=$(realpath /usr/lib/node_modules/npm 2>/dev/null || true)
sample_service=$build_dir/targets/sample_service
hash_cache=$state/input-hashes
declare -A cached=() content=() libs_of=() stat_of=() listed=() deps=() files_hash=()
mkdir -p "${images[@]/#/$state/}"
exec 9>"$state/lock"
flock 9   # one run at a time per build tree
if [ -f "$hash_cache" ]; then
  while read -r value key; do cached[$key]=$value; done <"$hash_cache"
fi
declare -A used=()   # the entries this run looked up: the file keeps only those when it changes
cache_changed=0
remember() { cached[$1]=$2; cache_changed=1; }
while read -r line; do stat_of[${line%% *}]=$line; done < <(
  stat -L -c '%n %s %Y %i' -- /usr/bin/node /usr/bin/dash /usr/bin/env /usr/bin/redis-server \
    "$sample_service" 2>/dev/null || true)

# Every image's inputs: $state/<name>/inputs, and every input path's files (path, size, mtime, inode).
all_paths=()
for name in "${images[@]}"; do
  "inputs_${name//-/_}" >"$state/$name/inputs"
  while read -r line; do
    case $line in
      "image "*) deps[$name]+=" ${line#image }" ;;
      *)
        [ -e "$line" ] || die "$name: input $line is missing"
        [ -n "${listed[$line]:-}" ] || { listed[$line]=1; all_paths+=("$line"); } ;;
    esac
  done <"$state/$name/inputs"
done

# The key of each image's files: the lines find prints for its inputs, in $state/<name>/files-key (awk
# sorts them out); then one sha256sum hashes them all.
key_files=() input_files=()
for name in "${images[@]}"; do
  key_files+=("$state/$name/files-key"); input_files+=("$state/$name/inputs"); : >"$state/$name/files-key"
done
find -H "${all_paths[@]}" \( -type f -printf '%H\tf %p %s %T@ %i\n' \) -o \( -type l -printf '%H\tl %p %l\n' \) |
  awk -F'\t' -v state="$state" '
    FILENAME ~ /\/inputs$/ { if ($0 !~ /^image /) { n = split(FILENAME, part, "/"); owners[$0] = owners[$0] " " part[n - 1] }; next }
    { n = split(owners[$1], image, " "); for (i = 1; i <= n; i++) print $2 >> (state "/" image[i] "/files-key") }
  ' "${input_files[@]}" -
declare -A digest_of=()   # file -> its sha256
while read -r digest file; do digest_of[$file]=$digest; done < <(sha256sum "${key_files[@]}")

# The files hash of each image: remembered, or read now.
for name in "${images[@]}"; do
  key="files ${digest_of[$state/$name/files-key]}"
  if [ -z "${cached[$key]:-}" ]; then
    paths=()
    while read -r line; do case $line in "image "*) ;; *) paths+=("$line") ;; esac; done <"$state/$name/inputs"
    digest=$({
      find -H "${paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
      find -H "${paths[@]}" -type l -printf 'l %p %l\n' | LC_ALL=C sort
    } | sha256sum)
    remember "$key" "${digest%% *}"
  fi
  files_hash[$name]=${cached[$key]}
  used[$key]=1
done

if ((cache_changed)); then
  for key in "${!used[@]}"; do printf '%s %s\n' "${cached[$key]}" "$key"; done >"$hash_cache"
fi

# The manifests (an image's FROM images come before it in $images), then one sha256sum for them all.
manifests=()
for name in "${images[@]}"; do
  fn=${name//-/_}
  {
    declare -f "${helpers[@]}" "inputs_$fn" "build_$fn"
    echo "PATH_ENV=$PATH_ENV repo_prefix=$repo_prefix"
    echo "files ${files_hash[$name]}"
    for dep in ${deps[$name]:-}; do
      echo "image $dep:"
      IFS= read -r -d '' text <"$state/$dep/manifest" || true
      printf '%s' "$text"
    done
  } >"$state/$name/manifest"
  manifests+=("$state/$name/manifest")
done
while read -r digest file; do digest_of[$file]=$digest; done < <(sha256sum "${manifests[@]}")
for name in "${images[@]}"; do content[$name]=${digest_of[$state/$name/manifest]}; done

# ---- build what is out of date -------------------------------------------------------------------

declare -A have=()   # tag -> "label id" of the images that exist
tags=("${images[@]/#/$repo_prefix}")
tags=("${tags[@]/%/:latest}")
# One call for all. It fails when one is missing: only then is the daemon asked whether it runs at all.
inspected=$(docker image inspect "${tags[@]}" 2>/dev/null \
  -f '{{.Id}} {{index .Config.Labels "draincheck.content"}} {{range .RepoTags}}{{.}} {{end}}') || need_daemon
while read -r id label repotags; do
  for t in $repotags; do have[$t]="$label $id"; done
done <<<"$inspected"

stale=()   # ids of the images replaced, removed at the end if nothing else uses them
for name in "${images[@]}"; do
  t=$repo_prefix$name:latest
  read -r old_label old_id <<<"${have[$t]:-- -}"
  if [ "$old_label" = "${content[$name]}" ]; then
    printf '%-45s up to date\n' "$t"
    continue
  fi
  started=$SECONDS
  rm -rf "${state:?}/$name/rootfs" "${state:?}/$name/ctx"
  "build_${name//-/_}" "$state/$name" "$t" "draincheck.content=${content[$name]}"
  rm -rf "${state:?}/$name/rootfs" "${state:?}/$name/ctx"
  size=$(docker image inspect -f '{{.Size}}' "$t")
  printf '%-45s built (%d MB, %d s)\n' "$t" $((size / 1000000)) $((SECONDS - started))
  [ "$old_id" = - ] || stale=("$old_id" "${stale[@]}")
done
for id in "${stale[@]}"; do docker image rm "$id" >/dev/null 2>&1 || true; done
