#!/bin/bash
# Test robo's MSI for real: build two versions (signed with a throwaway certificate, signatures verified),
# inspect their tables with msiinfo, then install, upgrade, refuse a downgrade and uninstall under wine's
# msiexec, checking the files, the registered service, the event log source, that configuration, state and
# identity survive the upgrade and the uninstall, and what remains afterwards. Twice: with the default
# directories, and with a CONFDIR holding a space given on the command line (kept by the upgrade).
#
#   packaging/windows/test-msi.sh            (from anywhere in a robo checkout; Debian 12, root for apt-get)
#
# Env: WORK (default ${TMPDIR:-/tmp}/robo-msi-test; its wine prefix is made afresh), GO (the go command).
# Exits non-zero, naming the check, on the first failure.
set -euo pipefail
T0=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/robo-msi-test}
log() { printf '[%4ds] == %s\n' $(( $(date +%s) - T0 )) "$*"; }
fail() { echo "test-msi: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }

log "packages"
pkgs=()
for c in wixl:wixl msiinfo:msitools msibuild:msitools wine:wine wine64:wine64 x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 \
         osslsigncode:osslsigncode openssl:openssl; do
  command -v "${c%%:*}" >/dev/null || [ -x "/usr/lib/wine/${c%%:*}" ] || pkgs+=("${c#*:}")
done
if [ ${#pkgs[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null || fail "apt-get install ${pkgs[*]}"
fi
wine --version

rm -rf "$WORK" && mkdir -p "$WORK"
V1=1.0.0 V2=1.1.0

log "build $V1 and $V2 (signed with a throwaway certificate; build.sh verifies both signatures)"
VERSION=$V1 SIGN_TEST=1 "$HERE/build.sh" "$WORK/v1" || fail "build $V1"
VERSION=$V2 SIGN_TEST=1 "$HERE/build.sh" "$WORK/v2" || fail "build $V2"
M1=$WORK/v1/robo-$V1-x64.msi M2=$WORK/v2/robo-$V2-x64.msi
for f in "$WORK/v1/robo.exe" "$M1"; do
  osslsigncode verify -CAfile "$WORK/v1/test-signing/cert.pem" -in "$f" >/dev/null 2>&1 || fail "signature of $f"
  # the other build's throwaway certificate must not verify it: the check can fail
  ! osslsigncode verify -CAfile "$WORK/v2/test-signing/cert.pem" -in "$f" >/dev/null 2>&1 || fail "$f verifies against a foreign certificate"
done
ok "Authenticode signatures of robo.exe and the MSI verify, and only against their own certificate"

log "msiinfo: the tables"
row() { # row MSI TABLE KEY: the row whose first column is KEY, tab-separated
  msiinfo export "$1" "$2" | tail -n +4 | tr -d '\r' | awk -F'\t' -v k="$3" '$1 == k'
}
expect_row() { # expect_row MSI TABLE EXPECTED-ROW (tab-separated)
  local key=${3%%$'\t'*} got
  got=$(row "$1" "$2" "$key")
  [ "$got" = "$3" ] || fail "$2 row $key: got [$got], want [$3]"
  ok "$2 $key"
}
tables=$(msiinfo tables "$M1")
for t in ServiceInstall ServiceControl Upgrade Property Directory File Component Registry CreateFolder \
         MsiLockPermissionsEx MsiServiceConfig MsiServiceConfigFailureActions AppSearch; do
  grep -qx "$t" <<<"$tables" || fail "table $t missing"
done
ok "tables present"
TAB=$'\t'
# ServiceInstall: own process (16), automatic start (2), normal error control (1), the account property,
# and robo service install's command line with the log file.
expect_row "$M1" ServiceInstall "RoboService${TAB}robo${TAB}robo backup (robo)${TAB}16${TAB}2${TAB}1${TAB}${TAB}${TAB}[SERVICEACCOUNT]${TAB}${TAB}-log-file \"[LOGDIR]robo.log\" -chdir \"[CONFDIR]\\\" service run${TAB}RoboExe${TAB}robo watch: runs the backup sets of the configuration in [CONFDIR] on their schedules and when their sources change."
# ServiceControl: stop on install and uninstall (2+32) and delete on uninstall (128), waiting; start on
# install (1) in the component that STARTSERVICE conditions.
expect_row "$M1" ServiceControl "RoboServiceStop${TAB}robo${TAB}162${TAB}${TAB}1${TAB}RoboExe"
expect_row "$M1" ServiceControl "RoboServiceStartCtl${TAB}robo${TAB}1${TAB}${TAB}0${TAB}RoboServiceStart"
[ "$(row "$M1" Component RoboServiceStart | cut -f5)" = 'STARTSERVICE = "1"' ] || fail "RoboServiceStart has no STARTSERVICE condition"
ok "Component RoboServiceStart is conditioned on STARTSERVICE"
expect_row "$M1" MsiServiceConfig "RoboDelayedStart${TAB}robo${TAB}5${TAB}3${TAB}1${TAB}RoboExe"
expect_row "$M1" MsiServiceConfigFailureActions "RoboRestart${TAB}robo${TAB}5${TAB}86400${TAB}${TAB}${TAB}1${TAB}60000${TAB}RoboExe"
msiinfo export "$M1" InstallExecuteSequence | grep "^MsiConfigureServices" >/dev/null || fail "MsiConfigureServices is not sequenced"
UC='{2EEF0CBA-4D4D-4ACE-8C86-5C1B9A556A3B}'
for m in "$M1" "$M2"; do
  v=$([ "$m" = "$M1" ] && echo $V1 || echo $V2)
  msiinfo export "$m" Upgrade | tr -d '\r' | grep -x "$UC${TAB}${TAB}$v${TAB}${TAB}1${TAB}${TAB}WIX_UPGRADE_DETECTED" >/dev/null || fail "$m: no Upgrade row for older versions"
  msiinfo export "$m" Upgrade | tr -d '\r' | grep -x "$UC${TAB}$v${TAB}${TAB}${TAB}2${TAB}${TAB}WIX_DOWNGRADE_DETECTED" >/dev/null || fail "$m: no Upgrade row refusing newer versions"
  [ "$(row "$m" Property ProductVersion | cut -f2)" = "$v" ] || fail "$m: ProductVersion is not $v"
  [ "$(row "$m" Property UpgradeCode | cut -f2)" = "$UC" ] || fail "$m: UpgradeCode changed"
done
[ "$(row "$M1" Property ProductCode | cut -f2)" != "$(row "$M2" Property ProductCode | cut -f2)" ] || fail "both builds have one ProductCode"
ok "Upgrade rows, ProductVersion $V1/$V2, one UpgradeCode, two ProductCodes"
for p in ALLUSERS:1 SERVICEACCOUNT:LocalSystem STARTSERVICE:1; do
  [ "$(row "$M1" Property "${p%%:*}" | cut -f2)" = "${p#*:}" ] || fail "Property ${p%%:*} is not ${p#*:}"
done
row "$M1" Property SecureCustomProperties | grep 'CONFDIR;LOGDIR;STATEDIR;SERVICEACCOUNT;STARTSERVICE' >/dev/null || fail "public properties are not secure"
ok "Property ALLUSERS (per-machine), SERVICEACCOUNT, STARTSERVICE, SecureCustomProperties"
expect_row "$M1" Directory "INSTALLDIR${TAB}ProgramFiles64Folder${TAB}robo"
expect_row "$M1" Directory "DATADIR${TAB}CommonAppDataFolder${TAB}robo"
for d in CONFDIR:conf LOGDIR:logs STATEDIR:state; do expect_row "$M1" Directory "${d%%:*}${TAB}DATADIR${TAB}${d#*:}"; done
[ "$(row "$M1" File robo.exe | cut -f2-4)" = "RoboExe${TAB}robo.exe${TAB}$(stat -c %s "$WORK/v1/robo.exe")" ] || fail "File robo.exe: $(row "$M1" File robo.exe)"
ok "File robo.exe (size of the signed build)"
SDDL='D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'
for d in DATADIR CONFDIR LOGDIR STATEDIR; do expect_row "$M1" MsiLockPermissionsEx "Lock$d${TAB}$d${TAB}CreateFolder${TAB}$SDDL${TAB}"; done

log "wine prefix (fresh) with the bcryptprimitives shim Go binaries need under wine 8"
export WINEPREFIX=$WORK/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
C=$WINEPREFIX/drive_c
# Test plumbing only, never shipped: wine 8.0 has no bcryptprimitives.dll!ProcessPrng, which Go >= 1.22 needs.
cat > "$WORK/shim.c" <<'EOF'
#include <windows.h>
typedef BOOLEAN (WINAPI *rtlgenrandom_t)(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static rtlgenrandom_t fn;
    if (!fn && !(fn = (rtlgenrandom_t)GetProcAddress(LoadLibraryA("advapi32.dll"), "SystemFunction036"))) return FALSE;
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!fn(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
BOOL WINAPI DllMain(HINSTANCE h, DWORD r, LPVOID p) { return TRUE; }
EOF
x86_64-w64-mingw32-gcc -O2 -shared -o "$WORK/bcryptprimitives.dll" "$WORK/shim.c" -Wl,--kill-at || fail "shim build"
wineboot --init >/dev/null 2>&1 || true
wineserver -w
[ -f "$C/windows/system32/kernel32.dll" ] || fail "wineboot did not make a prefix"
cp "$WORK/bcryptprimitives.dll" "$C/windows/system32/"
wineserver -p 600
trap 'wineserver -k 2>/dev/null || true' EXIT
cp "$M1" "$C/v1.msi" && cp "$M2" "$C/v2.msi"

msiexec() { # msiexec ARGS...: runs wine's msiexec with a verbose log in C:\msi-N.log, prints the exit code
  n=$((n + 1))
  (cd "$C" && timeout 600 wine msiexec "$@" /qn /l*v "C:\\msi-$n.log" >/dev/null 2>&1; echo $?)
}
n=0
regq() { wine reg query "$@" 2>/dev/null | tr -d '\r'; }
regval() { regq "$1" /v "$2" | sed -n "s/^ *$2 *REG_[A-Z_]* *//p"; }
SVC='HKLM\System\CurrentControlSet\Services\robo'
EVS='HKLM\System\CurrentControlSet\Services\EventLog\Application\robo'
UNINST='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
installed_versions() { regq "$UNINST" /s | awk '/DisplayName +REG_SZ +robo$/ { f = 1 } f && /DisplayVersion/ { print $3; f = 0 }' | sort | tr '\n' ' '; }
winpath() { echo "$1" | sed 's|^C:\\|'"$C"'/|; s|\\|/|g'; }

# service_cmdline CONFDIR LOGDIR: checks the registered service, then runs its exact command line with
# "validate" in place of "service run" (wine cannot run robo as a service): proves that robo parses the
# -chdir the MSI wrote and reads the configuration there.
check_service() {
  local conf=$1 logdir=$2 ip want
  regq "$SVC" >/dev/null || fail "service robo not registered"
  ip=$(regval "$SVC" ImagePath)
  # Windows Installer quotes the executable's path; wine 8's msi does not.
  want="-log-file \"${logdir}robo.log\" -chdir \"${conf}\\\" service run"
  [ "${ip#*robo.exe }" = "$want" ] || fail "service command line: got [$ip], want [...robo.exe $want]"
  [ "$(regval "$SVC" Start)" = 0x2 ] || fail "service start type $(regval "$SVC" Start), want automatic (0x2)"
  [ "$(regval "$SVC" ObjectName)" = LocalSystem ] || fail "service account $(regval "$SVC" ObjectName)"
  [ "$(regval "$SVC" Type)" = 0x10 ] || fail "service type $(regval "$SVC" Type)"
  ok "service robo: automatic, LocalSystem, command line ...robo.exe $want"
  [ "$(regval "$EVS" EventMessageFile)" = 'C:\windows\system32\EventCreate.exe' ] || fail "event log source: $(regq "$EVS")"
  [ "$(regval "$EVS" TypesSupported)" = 0x7 ] || fail "event log source types"
  ok "event log source Application/robo"
  printf '@"%s" %s\r\n@exit /b %%ERRORLEVEL%%\r\n' 'C:\Program Files\robo\robo.exe' "${want% service run} validate" > "$C/svc.cmd"
  out=$(cd "$C" && wine cmd /c 'C:\svc.cmd' 2>&1 | tr -d '\r') || fail "the service's command line with validate: $out"
  [ "$out" = "The configuration is valid: 1 backup set, 0 schedules." ] || fail "validate through the service's command line: $out"
  ok "the service's command line reads $conf: $out"
}
robo_version() { (cd "$C" && wine 'C:\Program Files\robo\robo.exe' version 2>&1 | tr -d '\r'); }

scenario() { # scenario NAME CONFDIR-WINDOWS MSIEXEC-PROPERTIES...
  local name=$1 conf=$2; shift 2
  local data='C:\ProgramData\robo\' logs='C:\ProgramData\robo\logs\' state='C:\ProgramData\robo\state\'
  log "$name: install $V1 (STARTSERVICE=0: wine cannot run robo as a service) $*"
  [ "$(msiexec /i 'C:\v1.msi' STARTSERVICE=0 "$@")" = 0 ] || fail "install $V1 (log: $C/msi-$n.log)"
  cmp -s "$C/Program Files/robo/robo.exe" "$WORK/v1/robo.exe" || fail "installed robo.exe differs from the build"
  [[ $(robo_version) == "robo v$V1 ("* ]] || fail "robo version: $(robo_version)"
  ok "C:\\Program Files\\robo\\robo.exe is the signed build and says v$V1"
  for d in "$data" "$conf" "$logs" "$state"; do [ -d "$(winpath "$d")" ] || fail "folder $d not created"; done
  ok "folders $data, $conf, $logs, $state"
  [ "$(regval 'HKLM\SOFTWARE\robo' ConfDir)" = "$conf" ] || fail "HKLM\\SOFTWARE\\robo ConfDir: $(regval 'HKLM\SOFTWARE\robo' ConfDir)"
  [ "$(installed_versions)" = "$V1 " ] || fail "installed products: $(installed_versions)"
  # What Group Policy and robo put there: configuration, secrets, state, identity, a log.
  mkdir -p "$C/src"
  local cf; cf=$(winpath "$conf")
  printf 'backup "docs" {\n  source      = "C:/src"\n  destination = "C:/dst"\n  mode        = "mirror"\n}\n' > "$cf/main.hcl"
  echo '{"version":1}' > "$cf/robo.secrets.json"
  mkdir -p "$cf/.robo" && echo '{"sets":{}}' > "$cf/.robo/state.json"
  echo '{"sets":{}}' > "$(winpath "$state")/state.json"
  echo 'AGE-SECRET-KEY-1TEST' > "$(winpath "$data")/identity.txt"
  echo 'old log line' > "$(winpath "$logs")/robo.log"
  (cd "$WORK" && rm -rf keep && mkdir keep && cp -a "$cf" keep/conf && cp -a "$(winpath "$state")" keep/state && cp "$(winpath "$data")/identity.txt" keep/)
  check_service "$conf" "$logs"

  log "$name: upgrade to $V2 (no properties: the installed directories are kept)"
  [ "$(msiexec /i 'C:\v2.msi' STARTSERVICE=0)" = 0 ] || fail "upgrade to $V2 (log: $C/msi-$n.log)"
  cmp -s "$C/Program Files/robo/robo.exe" "$WORK/v2/robo.exe" || fail "robo.exe not replaced by $V2"
  [[ $(robo_version) == "robo v$V2 ("* ]] || fail "robo version after upgrade: $(robo_version)"
  [ "$(installed_versions)" = "$V2 " ] || fail "installed products after the upgrade: $(installed_versions) (want $V2 only)"
  ok "robo.exe is v$V2; the $V1 product is gone"
  diff -r "$WORK/keep/conf" "$cf" >/dev/null || fail "the configuration changed in the upgrade"
  diff -r "$WORK/keep/state" "$(winpath "$state")" >/dev/null || fail "the state changed in the upgrade"
  cmp -s "$WORK/keep/identity.txt" "$(winpath "$data")/identity.txt" || fail "the identity changed in the upgrade"
  ok "configuration, secrets, state and identity unchanged, byte for byte"
  check_service "$conf" "$logs"

  log "$name: a downgrade to $V1 is refused"
  [ "$(msiexec /i 'C:\v1.msi' STARTSERVICE=0)" != 0 ] || fail "installing $V1 over $V2 succeeded"
  [[ $(robo_version) == "robo v$V2 ("* ]] || fail "the refused downgrade changed robo.exe"
  [ "$(installed_versions)" = "$V2 " ] || fail "installed products after the refused downgrade: $(installed_versions)"
  ok "refused; v$V2 still installed"

  log "$name: uninstall"
  [ "$(msiexec /x 'C:\v2.msi')" = 0 ] || fail "uninstall (log: $C/msi-$n.log)"
  [ ! -e "$C/Program Files/robo" ] || fail "C:\\Program Files\\robo remains: $(ls -A "$C/Program Files/robo")"
  ! regq "$SVC" >/dev/null || fail "the service is still registered"
  ! regq "$EVS" >/dev/null || fail "the event log source is still registered"
  ! regq 'HKLM\SOFTWARE\robo' >/dev/null || fail "HKLM\\SOFTWARE\\robo remains"
  [ -z "$(installed_versions)" ] || fail "still installed: $(installed_versions)"
  ok "robo.exe, C:\\Program Files\\robo, the service, the event source and HKLM\\SOFTWARE\\robo are gone"
  diff -r "$WORK/keep/conf" "$cf" >/dev/null || fail "the uninstall changed the configuration"
  diff -r "$WORK/keep/state" "$(winpath "$state")" >/dev/null || fail "the uninstall changed the state"
  cmp -s "$WORK/keep/identity.txt" "$(winpath "$data")/identity.txt" || fail "the uninstall changed the identity"
  ok "kept after uninstall: $(cd "$(winpath "$data")" && find . -type f | sort | tr '\n' ' ')"
  rm -rf "$(winpath "$data")" "$cf"
}

scenario "default directories" 'C:\ProgramData\robo\conf\'
scenario "CONFDIR with a space" 'C:\fleet conf\' 'CONFDIR=C:\fleet conf'

log "all MSI checks passed in $(( $(date +%s) - T0 ))s"
