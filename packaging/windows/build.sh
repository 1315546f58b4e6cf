#!/bin/bash
# Build robo's Windows package on Linux: robo.exe (windows/amd64), then robo-VERSION-x64.msi with wixl,
# both signed with osslsigncode when a certificate is given.
#
#   packaging/windows/build.sh [OUTDIR]        (from anywhere in a robo checkout; OUTDIR default dist/windows)
#
# Env:
#   VERSION             robo's version (default: git describe --tags --match 'v[0-9]*', else main.version's
#                       default). Stamped into robo.exe (-X main.version) and, as its leading A.B.C, into the
#                       MSI's ProductVersion. Major upgrades compare A.B.C: give every release a new one.
#   GO                  the go command (default: go on PATH, else /usr/local/go/bin/go)
#   SIGN_CERT, SIGN_KEY PEM certificate (chain) and private key for Authenticode signing, or
#   SIGN_PKCS12         a .pfx/.p12 holding both
#   SIGN_PASS_FILE      file holding the key's password (never on the command line)
#   SIGN_TIMESTAMP      RFC 3161 timestamp server URL (e.g. http://timestamp.digicert.com); without one a
#                       signature stops being valid when the certificate expires
#   SIGN_TEST=1         sign with a throwaway self-signed code-signing certificate made here with openssl
#                       (CI), and verify both signatures against it
#   SIGN_CAFILE         CA bundle to verify the signatures against (default: the test certificate, else none)
#
# Prints the paths of what it built. Exits non-zero on any failure.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/dist/windows}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

need() { command -v "$1" >/dev/null || die "$1 is not installed (apt-get install -y $2)"; }
need wixl wixl
need msibuild msitools
need msiinfo msitools

# --- version -------------------------------------------------------------------------------------------------
if [ -z "${VERSION:-}" ]; then
  VERSION=$(git -C "$ROOT" describe --tags --match 'v[0-9]*' 2>/dev/null || true)
  [ -n "$VERSION" ] || VERSION=$(sed -n 's/^var version = "\(.*\)"$/\1/p' "$ROOT/cmd/robo/main.go")
fi
VERSION=${VERSION#v}
[ -n "$VERSION" ] || die "no version (set VERSION)"
case $VERSION in *[!0-9A-Za-z.+_-]*) die "VERSION $VERSION: only letters, digits and . + _ - allowed" ;; esac
# Windows Installer: major.minor.build, at most 255.255.65535; the 4th field is ignored by upgrades.
MSIVER=$(echo "$VERSION" | sed -nE 's/^([0-9]+)\.([0-9]+)\.([0-9]+).*/\1.\2.\3/p')
[ -n "$MSIVER" ] || die "VERSION $VERSION does not start with MAJOR.MINOR.PATCH"
IFS=. read -r MA MI PA <<<"$MSIVER"
{ [ "$MA" -le 255 ] && [ "$MI" -le 255 ] && [ "$PA" -le 65535 ]; } || die "VERSION $VERSION: an MSI version is at most 255.255.65535"
MSIVER=$((10#$MA)).$((10#$MI)).$((10#$PA))

# --- robo.exe ------------------------------------------------------------------------------------------------
echo "robo $VERSION (MSI ProductVersion $MSIVER)"
(cd "$ROOT" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" build -trimpath \
  -ldflags "-s -w -X main.version=$VERSION" -o "$OUT/robo.exe" ./cmd/robo) || die "go build failed"

# --- signing -------------------------------------------------------------------------------------------------
SIGNARGS=()
CAFILE=${SIGN_CAFILE:-}
if [ "${SIGN_TEST:-}" = 1 ]; then
  need openssl openssl
  T=$OUT/test-signing && mkdir -p "$T"
  openssl req -x509 -newkey rsa:3072 -nodes -days 2 -subj "/CN=robo test signing (throwaway)/O=robo CI" \
    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || die "openssl could not make the test certificate"
  SIGN_CERT=$T/cert.pem SIGN_KEY=$T/key.pem
  CAFILE=${CAFILE:-$T/cert.pem}
fi
if [ -n "${SIGN_PKCS12:-}" ]; then
  SIGNARGS=(-pkcs12 "$SIGN_PKCS12")
elif [ -n "${SIGN_CERT:-}" ] || [ -n "${SIGN_KEY:-}" ]; then
  [ -n "${SIGN_CERT:-}" ] && [ -n "${SIGN_KEY:-}" ] || die "SIGN_CERT and SIGN_KEY go together"
  SIGNARGS=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
fi
if [ ${#SIGNARGS[@]} -gt 0 ]; then
  need osslsigncode osslsigncode
  [ -n "${SIGN_PASS_FILE:-}" ] && SIGNARGS+=(-readpass "$SIGN_PASS_FILE")
  [ -n "${SIGN_TIMESTAMP:-}" ] && SIGNARGS+=(-ts "$SIGN_TIMESTAMP")
  SIGNARGS+=(-h sha256 -n robo -i https://github.com/robo-backup/robo)
fi
sign() { # sign FILE in place, then verify it
  [ ${#SIGNARGS[@]} -gt 0 ] || return 0
  osslsigncode sign "${SIGNARGS[@]}" -in "$1" -out "$1.signed" >/dev/null || die "signing $1 failed"
  mv "$1.signed" "$1"
  local v=(verify -in "$1")
  [ -n "$CAFILE" ] && v+=(-CAfile "$CAFILE")
  local out
  out=$(osslsigncode "${v[@]}" 2>&1) || { echo "$out" >&2; die "the signature of $1 does not verify"; }
  echo "signed and verified: $1"
}
sign "$OUT/robo.exe"

# --- the MSI -------------------------------------------------------------------------------------------------
MSI=$OUT/robo-$VERSION-x64.msi
rm -f "$MSI"
# wixl resolves File/@Source relative to the working directory.
(cd "$OUT" && wixl -a x64 -D Version="$MSIVER" -D RoboExe=robo.exe -o "$MSI" "$HERE/robo.wxs") || die "wixl failed"
# What wixl cannot author: the ACL of C:\ProgramData\robo, delayed start and restart-on-failure of the service
# (as robo service install sets them), the condition on starting the service, and secure public properties.
for t in "$HERE"/tables/*.idt; do msibuild "$MSI" -i "$t" || die "msibuild -i $t failed"; done
msibuild "$MSI" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Condition\`, \`Sequence\`) VALUES ('MsiConfigureServices', 'VersionNT >= 600', 5850)" \
  || die "msibuild: MsiConfigureServices"
msibuild "$MSI" -q "UPDATE \`Component\` SET \`Condition\` = 'STARTSERVICE = \"1\"' WHERE \`Component\` = 'RoboServiceStart'" \
  || die "msibuild: component condition"
msibuild "$MSI" -q "UPDATE \`Property\` SET \`Value\` = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;INSTALLDIR;DATADIR;CONFDIR;LOGDIR;STATEDIR;SERVICEACCOUNT;STARTSERVICE' WHERE \`Property\` = 'SecureCustomProperties'" \
  || die "msibuild: SecureCustomProperties"
msiinfo export "$MSI" MsiLockPermissionsEx | grep DATADIR >/dev/null || die "the MSI has no ACL for DATADIR"
sign "$MSI"
echo "built: $OUT/robo.exe"
echo "built: $MSI"
