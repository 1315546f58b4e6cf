#!/usr/bin/env bash
# bench/cold10m.sh: robo plan/apply beside rsync on a tree of 10 million tiny
# files, every run from a cold cache (issue 22 point 2; docs/performance.md,
# "10 million files"). Needs root (loop mount, drop_caches), rsync, go.
#
#   bench/cold10m.sh                  # make the image and trees, then run every job
#   JOBS="plan rsync-n" bench/cold10m.sh
#
# Environment:
#   IMG    the ext4 image                    (default /var/tmp/flat10m.img, 20 GB sparse)
#   MNT    where it is mounted               (default /mnt/flat10m)
#   FILES  files in each tree                (default 10000000)
#   ROBO   robo binary                       (default: built from this checkout)
#   JOBS   jobs, in order (default "rsync-n plan rsync apply"): rsync-n (rsync -a
#          --delete -n), plan (robo plan), rsync (rsync -a --delete), apply
#          (robo apply -auto-approve)
#
# The source and destination are generated separately with the same gentree
# flags, so they are identical (names, sizes, times) and nothing needs doing;
# before every run the page cache, dentries and inodes are dropped.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMG=${IMG:-/var/tmp/flat10m.img}
MNT=${MNT:-/mnt/flat10m}
FILES=${FILES:-10000000}
JOBS=${JOBS:-"rsync-n plan rsync apply"}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
(cd "$REPO" && go build -o "$BIN/gentree" ./bench/gentree)
if [[ -z ${ROBO:-} ]]; then
	(cd "$REPO" && go build -o "$BIN/robo" ./cmd/robo)
	ROBO=$BIN/robo
fi
if ! mountpoint -q "$MNT"; then
	if [[ ! -f $IMG ]]; then
		truncate -s 20G "$IMG"
		mkfs.ext4 -q -F -O inline_data -N $((FILES * 24 / 10)) -I 256 "$IMG"
	fi
	mkdir -p "$MNT"
	mount -o loop "$IMG" "$MNT"
fi
for side in src dst; do
	if [[ ! -f $MNT/$side.done ]]; then
		echo "generating $MNT/$side ($FILES files)" >&2
		"$BIN/gentree" -q -root "$MNT/$side" -files "$FILES" -seed 1 -min 0 -max 60
		touch "$MNT/$side.done"
	fi
done
mkdir -p "$MNT/conf"
cat >"$MNT/conf/robo.hcl" <<EOC
backup "b" {
  source      = "$MNT/src"
  destination = "$MNT/dst"
  mode        = "mirror"
  max_delete  = "unlimited"
}
EOC
echo "| run | wall s | user s | system s | peak RSS KiB | exit |"
echo "|---|---:|---:|---:|---:|---:|"
for job in $JOBS; do
	case $job in
	rsync-n) cmd=(rsync -a --delete -n "$MNT/src/" "$MNT/dst/") ;;
	rsync) cmd=(rsync -a --delete "$MNT/src/" "$MNT/dst/") ;;
	plan) cmd=("$ROBO" -chdir "$MNT/conf" plan) ;;
	apply) cmd=("$ROBO" -chdir "$MNT/conf" apply -auto-approve) ;;
	*) echo "unknown job $job" >&2; exit 2 ;;
	esac
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 2
	rc=0
	/usr/bin/time -o "$BIN/time" -f "%e %U %S %M" "${cmd[@]}" >"$BIN/out" 2>&1 || rc=$?
	read -r wall user sys rss < <(tail -1 "$BIN/time")
	echo "| $job | $wall | $user | $sys | $rss | $rc |"
	if ((rc != 0)); then
		tail -5 "$BIN/out" >&2
		exit 1
	fi
done
