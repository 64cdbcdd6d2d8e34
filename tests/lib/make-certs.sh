#!/bin/sh
# make-certs.sh DIR: a throwaway PKI for TLS tests, made fresh by each test run.
#   ca.pem / ca.key            the test CA
#   server.pem / server.key    CN=localhost, SAN DNS:localhost, IP:127.0.0.1, signed by ca
#   client.pem / client.key    CN=alice, signed by ca
#   other-ca.pem, other.pem / other.key   a second CA and a client it signed (CN=mallory)
#   wrongname.pem / .key       signed by ca for DNS:wrong.example only (a name mismatch)
# EC P-256 keys: generated in milliseconds, unlike RSA.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { key "$1.key"; openssl req -x509 -new -key "$1.key" -days 2 -subj "/CN=$2" -out "$1.pem" 2>/dev/null; }
leaf() { # name CN ca ext
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
ca ca "iotplot test CA"
ca other-ca "some other CA"
leaf server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client alice ca "extendedKeyUsage=clientAuth"
leaf other mallory other-ca "extendedKeyUsage=clientAuth"
leaf wrongname wrong.example ca "subjectAltName=DNS:wrong.example"
