#!/usr/bin/env bash
# bench/webdav-copy.sh ROBO LABEL [FILES]: one robo first copy of FILES (default 100000)
# small files (bench/gentree -min 1024 -max 16384 -seed 1) to a fresh `rclone serve webdav`
# (default directory cache) on loopback, timed with /usr/bin/time; the result line goes to
# $W/results.txt (W defaults to /tmp/davb, which must hold bin/gentree). robo only: rclone's
# first copy to this server takes about 54 minutes at 100,000 files (bench/offsite.sh).
# docs/performance.md, "WebDAV's record of times and folder markers".
set -euo pipefail
ROBO=$1 LABEL=$2 FILES=${3:-100000}
W=${W:-/tmp/davb}
SRC=$W/src-$FILES
if [[ ! -d $SRC ]]; then nice -n 19 $W/bin/gentree -root "$SRC" -files "$FILES" -min 1024 -max 16384 -seed 1 -q; fi
D=$W/run-$LABEL; rm -rf "$D"; mkdir -p "$D/data/robo" "$D/conf"
: > "$D/rclone.conf"
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
PASS=pw$RANDOM$RANDOM
setsid nice -n 19 rclone serve webdav --config "$D/rclone.conf" --addr 127.0.0.1:$PORT --user robo --pass "$PASS" "$D/data" >"$D/server.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null || true' EXIT
for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
REC=$("$ROBO" secret keygen -o "$D/conf/identity.txt" 2>/dev/null)
cat > "$D/conf/main.hcl" <<EOC
robo {
  recipients = ["$REC"]
  identity   = "$D/conf/identity.txt"
}
remote "webdav" {
  type     = "webdav"
  url      = "http://127.0.0.1:$PORT/robo"
  user     = "robo"
  password = secret("davpass")
}
backup "dav_small" {
  source      = "$SRC"
  destination = "webdav:small-1"
  mode        = "mirror"
  max_delete  = "unlimited"
}
EOC
printf '%s\n' "$PASS" | "$ROBO" -chdir "$D/conf" secret set davpass
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
find "$SRC" -type f -exec cat {} + >/dev/null
S0=$(awk '{print ($14+$15+$16+$17)}' /proc/$SPID/stat)
START=$(date +%s.%N)
/usr/bin/time -f "%e wall %U user %S sys %M maxrssKB" -o "$D/time" nice -n 19 "$ROBO" -chdir "$D/conf" apply -auto-approve -target dav_small >"$D/apply.log" 2>&1 || echo "apply failed rc=$?" >> "$D/time"
S1=$(awk '{print ($14+$15+$16+$17)}' /proc/$SPID/stat)
echo "$LABEL files=$FILES $(cat $D/time) serverCPU=$(echo "($S1-$S0)/$(getconf CLK_TCK)" | bc -l | cut -c1-6) at $(date -u +%H:%M)" | tee -a $W/results.txt
diff -r -x .robo-webdav-times.json "$SRC" "$D/data/robo/small-1" >/dev/null && echo "$LABEL diff ok" | tee -a $W/results.txt || echo "$LABEL DIFF FAILED" | tee -a $W/results.txt
find "$D/data" -name .robo-webdav-times.json | wc -l | sed "s/^/$LABEL records: /" | tee -a $W/results.txt
rm -rf "$D/data"
