#!/bin/sh
# gen-test-certs.sh OUTDIR: the certificates the fake-server tests use.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ca.pem/.key         a test CA
# server.pem/.key     CA-signed, DNS:localhost only: reached as 127.0.0.1 it
#                     must fail the hostname check
# selfsigned.pem/.key not from the CA, CN=localhost, DNS:localhost,
#                     IP:127.0.0.1: only pinning can make it acceptable
# expired.pem/.key    CA-signed, valid only in the past
# notyet.pem/.key     CA-signed, valid only in the future
# wronghost.pem/.key  CA-signed for DNS:wrong.example
# other.pem/.key      CA-signed for localhost with another key: same name as
#                     server.pem, different fingerprint
# NAME.sha256         each certificate's SHA-256 fingerprint, AA:BB:... form
#
# `openssl x509 -req` cannot back-date a certificate and faketime is not
# something we can count on, so the CA-signed ones go through `openssl ca`,
# which takes explicit -startdate/-enddate.

set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

outdir=$1
mkdir -p "$outdir"
cd "$outdir"

OPENSSL=${OPENSSL:-openssl}

work=$(mktemp -d ./gen-test-certs.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir "$work/newcerts"
: > "$work/index.txt"
echo 1000 > "$work/serial"

cat > "$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
dir = $work
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no

[ policy_any ]
organizationName = optional
commonName = supplied
EOF

# EC keys: quick to make, and every TLS backend we meet accepts them.
new_key() {
    "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>/dev/null
}

new_key ca.key
"$OPENSSL" req -x509 -new -key ca.key -sha256 -days 3650 \
    -subj "/O=PopCheck tests/CN=PopCheck Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out ca.pem

# sign NAME CN SAN STARTDATE ENDDATE: a leaf certificate from the CA.
sign() {
    name=$1
    cn=$2
    san=$3
    startdate=$4
    enddate=$5

    new_key "$name.key"
    "$OPENSSL" req -new -key "$name.key" \
        -subj "/O=PopCheck tests/CN=$cn" -out "$work/$name.csr"
    cat > "$work/$name.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
authorityKeyIdentifier = keyid
EOF
    "$OPENSSL" ca -batch -notext -config "$work/ca.cnf" \
        -cert ca.pem -keyfile ca.key \
        -startdate "$startdate" -enddate "$enddate" \
        -extfile "$work/$name.ext" \
        -in "$work/$name.csr" -out "$name.pem" 2>/dev/null
}

now_plus() {
    date -u -d "$1" +%Y%m%d%H%M%SZ
}

valid_from=$(now_plus "-1 day")
valid_until=$(now_plus "+3650 days")

sign server localhost "DNS:localhost" "$valid_from" "$valid_until"
sign other localhost "DNS:localhost" "$valid_from" "$valid_until"
sign wronghost wrong.example "DNS:wrong.example" "$valid_from" "$valid_until"
sign expired localhost "DNS:localhost" \
    "$(now_plus "-3 years")" "$(now_plus "-2 years")"
sign notyet localhost "DNS:localhost" \
    "$(now_plus "+2 years")" "$(now_plus "+3 years")"

new_key selfsigned.key
"$OPENSSL" req -x509 -new -key selfsigned.key -sha256 -days 3650 \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" \
    -out selfsigned.pem

for name in ca server other wronghost expired notyet selfsigned; do
    "$OPENSSL" x509 -in "$name.pem" -noout -fingerprint -sha256 \
        | sed -e 's/^[^=]*=//' > "$name.sha256"
done
