#!/usr/bin/env bash
# bench/offsite.sh: benchmark robo against `rclone sync` to offsite
# destinations, both writing to the SAME real servers on loopback in one run:
# S3 (versitygw), SFTP (OpenSSH sshd), Azure Blob (Azurite) and WebDAV
# (rclone serve webdav). See docs/performance.md, "Offsite destinations".
#
#   RCLONE=/opt/rclone-v1.76.0/rclone bench/offsite.sh   # 100,000 files and 4 x 256 MiB, 3 runs, every remote
#   FILES=2000 BIG="1 64" RUNS=1 AGE=0 bench/offsite.sh  # smoke run
#   REMOTES="s3 sftp" JOBS="small nochange" bench/offsite.sh      # some remotes and jobs only
#
# Environment:
#   FILES    files in the small tree, 1-16 KiB each (bench/gentree) (default 100000)
#   BIG      "COUNT MIB" of the big-file tree                       (default "4 256")
#   RUNS     timed runs per tool, remote and job; median shown      (default 3)
#   REMOTES  remotes to measure, space-separated  (default "s3 sftp azure webdav")
#   JOBS     jobs to run, space-separated         (default "small nochange big")
#   WORK     work directory                       (default /tmp/robo-offsite-bench)
#   SEED     gentree seed                         (default 1)
#   AGE      seconds to wait, before an initial copy, after the last deletion
#            in WORK (default 300; ext4's inode allocator trap, see
#            bench/run.sh and docs/performance.md)
#   KEEP     1: keep the generated source trees for the next run (default 1)
#   RCLONE   the rclone to measure (default rclone; azure needs one newer than 1.60)
#   ROBO     skip: measure rclone only; a path: that robo binary;
#            unset: build ./cmd/robo
#
# Needs root (sshd, dropping the page cache), openssh-server, rclone (Debian's
# 1.60 CLI; for azure a newer one, see RCLONE), go, openssl, diff, and the servers of internal/remote/remotetest:
# versitygw ($ROBO_VERSITYGW, PATH or $(go env GOPATH)/bin) and azurite-blob
# ($ROBO_AZURITE, PATH or /opt/robo-ci/azurite/node_modules/.bin), installed by
# .ci/run. Every server is started by this script on a free loopback port with
# its data under $WORK/srv, and stopped on exit (also on failure).
#
# Protocol (as bench/run.sh and bench/smb.sh): before every timed run the page
# cache is dropped and the source read once untimed; an initial copy goes to a
# fresh bucket prefix or directory (nothing is deleted while a job runs; the
# destinations of one remote are removed after its runs, and the next initial
# copy starts AGE seconds after that); a nothing-changed run goes to the
# destination the same tool made and checked in the small job (or, without
# that job, made in an untimed first run). Remote after remote, every job. After every run the
# destination must equal the source: diff -r against the server's directory
# (versitygw, sshd, WebDAV serve files as files), or `rclone check --download`
# for Azurite (its blobs live in extent files). The servers' CPU (with their
# reaped children) is measured beside the tools'.
#
# AWS_CA_BUNDLE: this environment exports it. Debian's rclone 1.60 (AWS SDK v1)
# then refuses to build an S3 client ("LoadCustomCABundleError ... unsupported
# transport"), even for a plain-http endpoint, so rclone runs as
# `env -u AWS_CA_BUNDLE rclone ...`, and only rclone: the variable names a CA
# file for TLS, which a plain-http loopback endpoint never uses, so removing
# it changes nothing but the failure. robo runs with the environment as it is,
# because robo must handle it itself (docs/performance.md).
set -euo pipefail

# bash reads a script as it runs it, so editing this file during a run (it
# takes hours) changed the rest of the run: once the report step failed
# after every measurement. The run is made from a copy of the script.
if [[ -z ${ROBO_OFFSITE_REPO:-} ]]; then
	copy=$(mktemp /tmp/robo-offsite-script.XXXXXX)
	cp "${BASH_SOURCE[0]}" "$copy"
	ROBO_OFFSITE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) ROBO_OFFSITE_COPY=$copy exec bash "$copy" "$@"
fi
rm -f "${ROBO_OFFSITE_COPY:-}" # bash holds the file open: removing the name is enough

FILES=${FILES:-100000}
read -r BIG_COUNT BIG_MIB <<<"${BIG:-4 256}"
RUNS=${RUNS:-3}
REMOTES=${REMOTES:-"s3 sftp azure webdav"}
JOBS=${JOBS:-"small nochange big"}
WORK=${WORK:-/tmp/robo-offsite-bench}
SEED=${SEED:-1}
AGE=${AGE:-300}
KEEP=${KEEP:-1}
ROBO=${ROBO:-}

REPO=$ROBO_OFFSITE_REPO
OUTDIR=$REPO/bench/out
DATE=$(date +%Y%m%d-%H%M%S)
RESULT=$OUTDIR/offsite-$DATE.md

SCRIPT=offsite.sh
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

[[ $FILES =~ ^[0-9]+$ && $FILES -ge 1 ]] || die "FILES must be a positive integer"
[[ $BIG_COUNT =~ ^[0-9]+$ && $BIG_MIB =~ ^[0-9]+$ ]] || die "BIG must be \"COUNT MIB\""
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive integer"
[[ $AGE =~ ^[0-9]+$ ]] || die "AGE must be a whole number of seconds"
((BIG_COUNT > 0 && BIG_MIB > 0)) || JOBS=${JOBS//big/}
for r in $REMOTES; do [[ $r =~ ^(s3|sftp|azure|webdav)$ ]] || die "unknown remote $r (remotes: s3 sftp azure webdav)"; done
[[ $(id -u) == 0 ]] || die "run as root (sshd and dropping the page cache need it)"
command -v go >/dev/null || die "go is not installed"
command -v rclone >/dev/null || die "rclone is not installed (apt-get install -y rclone)"
# The rclone measured (and used to check Azurite's blobs). Debian's 1.60
# cannot reach Azurite: its azureblob endpoint option is a host suffix, and
# use_emulator builds the URL "blob.core.windows.net" ("unsupported protocol
# scheme"); a newer rclone takes endpoint=http://127.0.0.1:PORT/ACCOUNT.
RCLONE=${RCLONE:-rclone}
command -v "$RCLONE" >/dev/null || die "RCLONE=$RCLONE is not an executable"
if [[ " $REMOTES " == *" azure "* ]] && "$RCLONE" version 2>/dev/null | head -1 | grep -q 'v1\.60\.'; then
	die "Debian's rclone 1.60 cannot reach Azurite: set RCLONE= to a newer rclone (go install github.com/rclone/rclone@v1.76.0) or leave azure out of REMOTES"
fi
command -v openssl >/dev/null || die "openssl is not installed"
command -v ssh-keygen >/dev/null || die "ssh-keygen is not installed (apt-get install -y openssh-client)"

# find_prog ENVVAR NAME DIR...: the server program as remotetest finds it.
find_prog() {
	local env=$1 name=$2 d
	shift 2
	if [[ -n ${!env:-} ]]; then
		[[ -x ${!env} ]] || die "\$$env=${!env} is not an executable"
		echo "${!env}"
		return
	fi
	command -v "$name" 2>/dev/null && return
	for d in "$@"; do [[ -x $d/$name ]] && { echo "$d/$name"; return; }; done
	die "$name not found (set \$$env; .ci/run installs it)"
}
has_remote() { [[ " $REMOTES " == *" $1 "* ]]; }
has_remote sftp && SSHD=$(find_prog ROBO_SSHD sshd /usr/sbin /sbin)
has_remote s3 && VERSITYGW=$(find_prog ROBO_VERSITYGW versitygw "$(go env GOPATH)/bin" "$HOME/go/bin")
has_remote azure && AZURITE=$(find_prog ROBO_AZURITE azurite-blob /opt/robo-ci/azurite/node_modules/.bin)

# ---------------------------------------------------------------- cleanup
BIN=$(mktemp -d "${TMPDIR:-/tmp}/robo-offsite-bin.XXXXXX")
SRV=$WORK/srv
declare -A PID=() # remote -> server pid (the leader of its process group)
stop_server() {
	local r=$1 p=${PID[$1]:-} i kids
	[[ -n $p ]] || return 0
	# sshd's per-connection children call setsid: collect the descendants
	# before signalling, as remotetest does.
	kids=$(pgrep -P "$p" || true)
	kill -TERM -- "-$p" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$p" $kids 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	PID[$r]=""
}
cleanup() {
	local rc=$? r
	for r in "${!PID[@]}"; do stop_server "$r" || true; done
	rm -rf "$BIN"
	[[ -d $WORK ]] && rm -rf "$WORK"/{srv,conf,logs}
	if [[ $KEEP != 1 && -d $WORK ]]; then rm -rf "$WORK"/{small,big,tree.stamp}; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
log "building gentree, timeit$([[ -z $ROBO ]] && echo ' and robo' || true) into $BIN"
(cd "$REPO" && go build -o "$BIN/gentree" ./bench/gentree && go build -o "$BIN/timeit" ./bench/timeit)
TIMEIT=$BIN/timeit
case $ROBO in
skip) ;;
"")
	(cd "$REPO" && go build -o "$BIN/robo" ./cmd/robo)
	ROBO=$BIN/robo
	;;
*) [[ -x $ROBO ]] || die "ROBO=$ROBO is not an executable (or say ROBO=skip)" ;;
esac
TOOLS="rclone"
[[ $ROBO == skip ]] || TOOLS="robo rclone"

# ---------------------------------------------------------------- disk
mkdir -p "$WORK" "$OUTDIR"
# The source trees, plus one remote's destinations (2 tools x RUNS) at a time.
small_kb=$((FILES * 12))
big_kb=$((BIG_COUNT * BIG_MIB * 1024))
need_kb=$(((small_kb + big_kb) * (1 + 2 * RUNS) * 12 / 10 + 65536))
have_kb=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
used_kb=$(du -sk "$WORK" 2>/dev/null | awk '{print $1}')
((have_kb + used_kb >= need_kb)) || die "$WORK needs about $((need_kb / 1024)) MiB; $((have_kb / 1024)) MiB free. Set WORK=, FILES= or BIG="

# ---------------------------------------------------------------- sources
STAMP="files=$FILES big=$BIG_COUNT/$BIG_MIB seed=$SEED gentree=$(sha256sum "$REPO/bench/gentree/main.go" | cut -c1-16)"
if [[ -f $WORK/tree.stamp && $(cat "$WORK/tree.stamp") == "$STAMP" && -d $WORK/small && -d $WORK/big ]]; then
	log "reusing the source trees in $WORK ($STAMP)"
else
	rm -rf "$WORK"/{small,big,tree.stamp}
	log "generating $FILES files of 1-16 KiB in $WORK/small"
	"$BIN/gentree" -root "$WORK/small" -files "$FILES" -min 1024 -max 16384 -seed "$SEED" -q
	mkdir -p "$WORK/big"
	for ((i = 1; i <= BIG_COUNT; i++)); do
		log "generating big/$i.bin, $BIG_MIB MiB (AES-CTR keystream: incompressible, not sparse)"
		openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:robo-bench-$SEED-$i" </dev/zero 2>/dev/null |
			head -c "$((BIG_MIB * 1048576))" >"$WORK/big/$i.bin" || true
		[[ $(stat -c %s "$WORK/big/$i.bin") == $((BIG_MIB * 1048576)) ]] || die "generating big/$i.bin failed"
		touch -d '2024-03-01 12:00:00.123456789' "$WORK/big/$i.bin"
	done
	echo "$STAMP" >"$WORK/tree.stamp"
fi

# ---------------------------------------------------------------- servers
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}
# wait_tcp REMOTE PORT LOG: until the server accepts, or fail with its log.
wait_tcp() {
	local i
	for ((i = 0; ; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		kill -0 "${PID[$1]}" 2>/dev/null || { tail -20 "$3" >&2; die "$1 server exited during start"; }
		((i < 2400)) || { tail -20 "$3" >&2; die "$1 server did not accept on 127.0.0.1:$2 within 120 s"; }
		sleep 0.05
	done
}
rm -rf "$SRV"
mkdir -p "$SRV"
declare -A PORT=() ROOT=()
S3_AK="AK$(openssl rand -hex 8 | tr a-f A-F)"
S3_SK=$(openssl rand -hex 20)
AZ_ACCOUNT=devstoreaccount1
AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DAV_USER=robo
DAV_PASS="Dav-$(openssl rand -hex 8)"

# start_server REMOTE: a fresh server with an empty data directory.
start_server() {
	local r=$1 d=$SRV/$1 p
	rm -rf "$d"
	mkdir -p "$d/data"
	p=$(free_port)
	PORT[$r]=$p
	ROOT[$r]=$d/data
	case $r in
	s3)
		ROOT_ACCESS_KEY=$S3_AK ROOT_SECRET_KEY=$S3_SK setsid "$VERSITYGW" --quiet --port "127.0.0.1:$p" posix "$d/data" >"$d/log" 2>&1 &
		;;
	sftp)
		mkdir -p /run/sshd
		ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$d/host_key"
		ssh-keygen -q -t ed25519 -N '' -C bench -f "$d/id"
		cp "$d/id.pub" "$d/authorized_keys"
		echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 "$d/host_key.pub")" >"$d/known_hosts"
		cat >"$d/sshd_config" <<-EOF
			ListenAddress 127.0.0.1
			HostKey $d/host_key
			PidFile none
			AuthorizedKeysFile $d/authorized_keys
			AuthenticationMethods publickey
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			StrictModes no
			UsePAM no
			AllowUsers root
			UseDNS no
			MaxSessions 64
			MaxStartups 64:30:128
			Subsystem sftp internal-sftp
		EOF
		setsid "$SSHD" -f "$d/sshd_config" -D -e -p "$p" >"$d/log" 2>&1 &
		;;
	azure)
		setsid "$AZURITE" --blobHost 127.0.0.1 --blobPort "$p" --location "$d/data" --skipApiVersionCheck --loose >"$d/log" 2>&1 &
		;;
	webdav)
		: >"$d/rclone.conf"
		# rclone's default directory cache (5 minutes): every write goes
		# through the server, which keeps its cache in step, and nothing
		# under data is changed on disk while the server runs except the
		# removal after the last job. With --dir-cache-time 0s (the tests'
		# setting, so that a test writing into the directory is seen at
		# once) every PROPFIND lists each child's directory again: 10,000
		# files of 100 to a folder took 40 s to list instead of 1 s, for
		# robo and rclone alike, and the server, not the client, was measured.
		setsid rclone serve webdav --config "$d/rclone.conf" --addr "127.0.0.1:$p" --user "$DAV_USER" --pass "$DAV_PASS" \
			"$d/data" >"$d/log" 2>&1 &
		;;
	esac
	PID[$r]=$!
	wait_tcp "$r" "$p" "$d/log"
	log "$r server pid ${PID[$r]} on 127.0.0.1:$p, data in $d/data"
}

# server_cpu REMOTE: the server's CPU seconds so far, its own and its reaped
# children's (sshd's per-connection children).
CLK=$(getconf CLK_TCK)
server_cpu() {
	sed 's/^.*) //' "/proc/${PID[$1]}/stat" | awk -v clk="$CLK" '{print ($12 + $13 + $14 + $15) / clk}'
}

# ---------------------------------------------------------------- rclone
# rclone_remote REMOTE TOOL DIR: rclone's on-the-fly remote for a destination
# (each tool writes into its own bucket, container or directory TOOL).
# SFTP: disable_hashcheck, because otherwise rclone runs md5sum in a remote
# shell after every upload (a new SSH session per file: 91 s and 41 s of
# sshd CPU for 200 files here), and robo compares size and mtime.
RCLONE_FLAGS=(--config /dev/null -q)
rclone_remote() {
	local r=$1 tool=$2 dir=$3 p=${PORT[$1]}
	case $r in
	s3) echo ":s3,provider=Other,env_auth=false,access_key_id=$S3_AK,secret_access_key=$S3_SK,endpoint='http://127.0.0.1:$p',region=us-east-1,force_path_style=true:$tool/$dir" ;;
	sftp) echo ":sftp,host=127.0.0.1,port=$p,user=root,key_file='$SRV/sftp/id',known_hosts_file='$SRV/sftp/known_hosts',shell_type=unix,disable_hashcheck=true:${ROOT[sftp]}/$tool/$dir" ;;
	azure) echo ":azureblob,account=$AZ_ACCOUNT,key='$AZ_KEY',endpoint='http://127.0.0.1:$p/$AZ_ACCOUNT':$tool/$dir" ;;
	webdav) echo ":webdav,url='http://127.0.0.1:$p/',vendor=other,user=$DAV_USER,pass=$(rclone obscure "$DAV_PASS"):$tool/$dir" ;;
	esac
}
# rclone_cmd ...: rclone without AWS_CA_BUNDLE (see the header).
rclone_cmd() { env -u AWS_CA_BUNDLE "$RCLONE" "${RCLONE_FLAGS[@]}" "$@"; }

# ---------------------------------------------------------------- robo
CONF=$WORK/conf
# robo_config: robo's configuration for every remote and destination of this
# run, in the syntax of docs/offsite.md. Backup blocks are named
# REMOTE_JOB_DIR and write to bucket/container/directory "robo", prefix DIR.
robo_config() {
	local r job dir
	rm -rf "$CONF"
	mkdir -p "$CONF"
	local recipient
	recipient=$("$ROBO" secret keygen -o "$CONF/identity.txt" 2>/dev/null) || die "robo secret keygen failed"
	{
		cat <<-EOF
			robo {
			  recipients = ["$recipient"]
			  identity   = "$CONF/identity.txt"
			}
		EOF
		for r in $REMOTES; do
			case $r in
			s3) cat <<-EOF
				remote "s3" {
				  type              = "s3"
				  endpoint          = "http://127.0.0.1:${PORT[s3]}"
				  region            = "us-east-1"
				  bucket            = "robo"
				  path_style        = true
				  access_key_id     = "$S3_AK"
				  secret_access_key = secret("s3key")
				}
			EOF
				;;
			sftp) cat <<-EOF
				remote "sftp" {
				  type        = "sftp"
				  host        = "127.0.0.1"
				  port        = ${PORT[sftp]}
				  user        = "root"
				  private_key = secret("sftpkey")
				  known_hosts = "$(cat "$SRV/sftp/known_hosts")"
				}
			EOF
				;;
			azure) cat <<-EOF
				remote "azure" {
				  type      = "azureblob"
				  endpoint  = "http://127.0.0.1:${PORT[azure]}/$AZ_ACCOUNT"
				  account   = "$AZ_ACCOUNT"
				  key       = secret("azkey")
				  container = "robo"
				}
			EOF
				;;
			webdav) cat <<-EOF
				remote "webdav" {
				  type     = "webdav"
				  url      = "http://127.0.0.1:${PORT[webdav]}/robo"
				  user     = "$DAV_USER"
				  password = secret("davpass")
				}
			EOF
				;;
			esac
			for job in small big; do
				for dir in $(run_dirs "$job"); do
					local dst=$dir
					[[ $r == sftp ]] && dst=${ROOT[sftp]}/robo/$dir
					cat <<-EOF
						backup "${r}_${dir//-/_}" {
						  source      = "$WORK/$job"
						  destination = "$r:$dst"
						  mode        = "mirror"
						  max_delete  = "unlimited"
						}
					EOF
				done
			done
		done
	} >"$CONF/main.hcl"
	# secret_value REMOTE: the secret of a remote on standard output.
	secret_value() {
		case $1 in
		s3) printf '%s\n' "$S3_SK" ;;
		sftp) cat "$SRV/sftp/id" ;;
		azure) printf '%s\n' "$AZ_KEY" ;;
		webdav) printf '%s\n' "$DAV_PASS" ;;
		esac
	}
	local -A secret_name=([s3]=s3key [sftp]=sftpkey [azure]=azkey [webdav]=davpass)
	for r in $REMOTES; do
		secret_value "$r" | "$ROBO" -chdir "$CONF" secret set "${secret_name[$r]}" >"$CONF/secret.log" 2>&1 || {
			cat "$CONF/secret.log" >&2
			die "robo secret set ${secret_name[$r]} failed"
		}
	done
	"$ROBO" -chdir "$CONF" validate >"$CONF/validate.log" 2>&1 || {
		cat "$CONF/validate.log" >&2
		die "robo rejects the generated remote config: adjust robo_config to robo's remote syntax, or run with ROBO=skip"
	}
}
# run_dirs JOB: the destination prefixes of a job's runs: JOB-1..JOB-RUNS for
# the initial copies, and nochange for the nothing-changed job.
run_dirs() {
	local r
	for ((r = 1; r <= RUNS; r++)); do echo "$1-$r"; done
	[[ $1 == small ]] && echo nochange
	return 0
}

# ---------------------------------------------------------------- measuring
LAST_DELETE=$(date +%s)
deleted() { LAST_DELETE=$(date +%s); }
settle() {
	sync
	local wait=$((LAST_DELETE + AGE - $(date +%s)))
	if ((wait > 0)); then
		log "  waiting ${wait}s for the inodes freed by the last deletion to age (AGE=$AGE)"
		sleep "$wait"
	fi
}
warm() { find "$WORK/$1" -type f -exec cat {} + >/dev/null; }

# make_containers REMOTE: the buckets, containers or directories robo and
# rclone write into, made untimed with rclone.
make_containers() {
	local r=$1 tool
	for tool in robo rclone; do
		case $r in
		sftp | webdav) mkdir -p "${ROOT[$r]}/$tool" ;;
		*) rclone_cmd mkdir "$(rclone_remote "$r" "$tool" "")" || die "creating the $r bucket/container $tool failed" ;;
		esac
	done
}

# same_content REMOTE TOOL TREE DIR WHAT: the destination equals the source.
same_content() {
	local r=$1 tool=$2 tree=$3 dir=$4 what=$5 on_disk
	case $r in
	s3 | sftp | webdav)
		on_disk=${ROOT[$r]}/$tool/$dir
		# robo's record of times on WebDAV (docs/offsite.md) is not part of the tree.
		if ! diff -r -x .robo-webdav-times.json "$WORK/$tree" "$on_disk" >"$LOGS/diff.out" 2>&1; then
			head -20 "$LOGS/diff.out" >&2
			die "$what: destination differs from source (diff -r $WORK/$tree $on_disk)"
		fi
		;;
	azure)
		if ! rclone_cmd check --download --one-way "$WORK/$tree" "$(rclone_remote azure "$tool" "$dir")" >"$LOGS/diff.out" 2>&1; then
			head -20 "$LOGS/diff.out" >&2
			die "$what: destination differs from source (rclone check --download)"
		fi
		;;
	esac
}

# command_for TOOL REMOTE TREE DIR: sets CMD to the command that copies
# TREE to DIR (an array: rclone's remote strings hold quotes and commas).
command_for() {
	local tool=$1 r=$2 tree=$3 dir=$4
	case $tool in
	robo) CMD=("$ROBO" -chdir "$CONF" apply -auto-approve -target "${r}_${dir//-/_}") ;;
	rclone) CMD=(env -u AWS_CA_BUNDLE "$RCLONE" "${RCLONE_FLAGS[@]}" sync "$WORK/$tree" "$(rclone_remote "$r" rclone "$dir")") ;;
	esac
}

ROWS=() # "job|remote|tool|median|min|max|cpu|rss|servercpu|cmd"
declare -A MADE=() # remote.tool -> the small job's first destination (nochange runs against it)
LOGS=$WORK/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

# measure JOB REMOTE TOOL TREE: RUNS timed runs, each into a fresh prefix
# (initial jobs) or into the prefix of an untimed first run (nochange).
measure() {
	local job=$1 r=$2 tool=$3 tree=$4 run dir cmd res=$LOGS/$job.$r.$tool.res scpu=$LOGS/$job.$r.$tool.srv c0 c1
	rm -f "$res" "$scpu"
	if [[ $job == nochange && -n ${MADE[$r.$tool]:-} ]]; then
		# The small job's first copy, made and checked by the same tool
		# a moment ago, is the destination: no extra copy.
		dir=${MADE[$r.$tool]}
	elif [[ $job == nochange ]]; then
		dir=nochange
		command_for "$tool" "$r" "$tree" "$dir"
		"${CMD[@]}" >"$LOGS/$job.$r.$tool.0.log" 2>&1 || { tail -20 "$LOGS/$job.$r.$tool.0.log" >&2; die "$job/$r/$tool untimed first run failed: ${CMD[*]}"; }
		same_content "$r" "$tool" "$tree" "$dir" "$job/$r/$tool untimed first run"
	else
		settle
	fi
	for ((run = 1; run <= RUNS; run++)); do
		[[ $job == nochange ]] || dir=$job-$run
		command_for "$tool" "$r" "$tree" "$dir"
		cmd=${CMD[*]}
		drop_caches
		warm "$tree"
		local out=$LOGS/$job.$r.$tool.$run.log
		c0=$(server_cpu "$r")
		if ! "$TIMEIT" -o "$res" -- "${CMD[@]}" >"$out" 2>&1; then
			tail -20 "$out" >&2
			die "$job/$r/$tool run $run failed: $cmd (log: $out)"
		fi
		c1=$(server_cpu "$r")
		awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f\n", b - a}' >>"$scpu"
		same_content "$r" "$tool" "$tree" "$dir" "$job/$r/$tool run $run"
		[[ $job == small && $run == 1 ]] && MADE[$r.$tool]=$dir
		log "  $job/$r/$tool run $run: $(tail -1 "$res") server_cpu_s=$(tail -1 "$scpu")"
	done
	local med lo hi cpu rss sc
	med=$(field wall_s "$res" | median)
	lo=$(field wall_s "$res" | sort -g | head -1)
	hi=$(field wall_s "$res" | sort -g | tail -1)
	cpu=$(paste -d' ' <(field user_s "$res") <(field sys_s "$res") | awk '{print $1+$2}' | median)
	rss=$(field maxrss_kb "$res" | sort -g | tail -1)
	sc=$(median <"$scpu")
	ROWS+=("$job|$r|$tool|$med|$lo|$hi|$cpu|$rss|$sc|$cmd")
}

tree_of() { case $1 in big) echo big ;; *) echo small ;; esac; }

for r in $REMOTES; do
	start_server "$r"
done
[[ $ROBO == skip ]] || robo_config
for job in $JOBS; do [[ $job =~ ^(small|nochange|big)$ ]] || die "unknown job $job (jobs: small nochange big)"; done
# Remote by remote: every job of one remote, then its destinations are
# removed (the next remote's first initial copy waits AGE seconds after
# that). nochange runs against the small job's first copy.
for r in $REMOTES; do
	make_containers "$r"
	for job in $JOBS; do
		log "job $job on $r"
		for tool in $TOOLS; do
			measure "$job" "$r" "$tool" "$(tree_of "$job")"
		done
	done
	# Azurite is stopped, as its blobs are not files (its data goes at exit).
	case $r in
	azure) stop_server azure ;;
	*) rm -rf "${ROOT[$r]:?}"/{robo,rclone} ;;
	esac
	deleted
done

# ---------------------------------------------------------------- report
job_title() {
	case $1 in
	small) echo "$FILES × 1–16 KiB, initial copy" ;;
	nochange) echo "$FILES × 1–16 KiB, nothing changed" ;;
	big) echo "$BIG_COUNT × $BIG_MIB MiB, initial copy" ;;
	esac
}
rclone_median() {
	local row j r t m
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j r t m _ <<<"$row"
		if [[ $j == "$1" && $r == "$2" && $t == rclone ]]; then
			echo "$m"
			return
		fi
	done
}
server_name() {
	case $1 in
	s3) "$VERSITYGW" --version 2>/dev/null | head -1 | sed 's/^/versitygw /' || echo versitygw ;;
	sftp) echo "OpenSSH sshd $("$SSHD" -V 2>&1 | head -1)" ;;
	azure) echo "Azurite $("$AZURITE" --version 2>/dev/null | head -1)" ;;
	webdav) echo "rclone serve webdav ($(rclone version 2>/dev/null | head -1))" ;;
	esac
}
v_robo=skipped
[[ $ROBO == skip ]] || v_robo=$("$ROBO" version 2>/dev/null | head -1 || true)
{
	echo "# robo vs rclone to offsite destinations on loopback, $DATE"
	echo
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r);" \
		"sources and server data in $WORK on $(df -PT "$WORK" | awk 'NR==2 {print $2}')"
	for r in $REMOTES; do echo "- $r server: $(server_name "$r") on 127.0.0.1 (loopback, same machine)"; done
	echo "- versions: robo $v_robo; $("$RCLONE" version 2>/dev/null | head -1) (rclone run without AWS_CA_BUNDLE)"
	echo "- runs: $RUNS per tool, remote and job; median wall time (min–max), median CPU of the timed process (user+sys)," \
		"median CPU of the server during the run, largest peak RSS"
	echo "- page cache dropped before every run: $([[ $DROP_OK == 1 ]] && echo yes || echo 'NO (not permitted)'), then the source read untimed;" \
		"initial copies started $AGE s after the last deletion"
	echo "- rclone: defaults (--transfers 4, --checkers 8); robo: defaults"
	echo
	echo "| job | remote | tool | wall s (median) | min–max | CPU s (user+sys) | server CPU s | peak RSS MiB | wall vs rclone |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j r t m lo hi cpu rss sc _ <<<"$row"
		printf '| %s | %s | %s | %.2f | %.2f–%.2f | %.2f | %.2f | %.1f | %s |\n' "$(job_title "$j")" "$r" "$t" "$m" "$lo" "$hi" "$cpu" "$sc" \
			"$(awk -v k="$rss" 'BEGIN {print k/1024}')" "$(ratio "$m" "$(rclone_median "$j" "$r")")"
	done
	echo
	echo "\"wall vs rclone\" is the tool's median wall time over rclone's in the same job and remote: below 1 is faster than rclone."
	echo
	echo "Commands (the last run of each row; keys and passwords as generated for the run):"
	echo
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j r t _ _ _ _ _ _ cmd <<<"$row"
		cmd=${cmd//$S3_SK/SECRET}
		cmd=${cmd//$AZ_KEY/KEY}
		# rclone's obscured password is reversible: not shown either.
		[[ $cmd == *",pass="* ]] && cmd=$(sed -E 's/,pass=[^:,]*/,pass=PASS/' <<<"$cmd")
		cmd=${cmd//$BIN\//}
		echo "- $(job_title "$j") / $r / $t: \`$cmd\`"
	done
} >"$RESULT"
cat "$RESULT"
log "wrote $RESULT"
