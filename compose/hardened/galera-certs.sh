#!/bin/bash
# Makes a test CA and one certificate per Galera node with openssl, for the prototype (db-proto.yml): each
# node's folder gets ca.pem, node.pem and node-key.pem and is mounted into that node only.
# The real stack issues these from its own code (src/stack/tls.ts); this script stands alone so the
# prototype runs without faultline. Usage: galera-certs.sh DIR [NET_PREFIX]; keeps what DIR already has.
set -euo pipefail
dir="${1:?usage: galera-certs.sh DIR [NET_PREFIX]}"
prefix="${2:-10.223.7}"
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
if [ ! -s ca.pem ] || [ ! -s ca-key.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 30 -sha256 \
    -subj "/O=faultline/CN=faultline galera test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2> /dev/null
  chmod 600 ca-key.pem
fi
for i in 1 2 3; do
  name="galera$i"
  [ -s "$name/node.pem" ] && continue
  mkdir -p "$name"
  # serverAuth for clients and for the SST/IST/group peer that connects to it; clientAuth because Galera
  # peers present the same certificate when they connect out (OpenSSL checks the purpose of both ends).
  # The LB's addresses are in every node's names: a client going through the LB verifies whichever node
  # currently answers against the name it dialled.
  openssl req -newkey rsa:2048 -nodes -keyout "$name/node-key.pem" -out "$name/node.csr" \
    -subj "/O=faultline/CN=$name" 2> /dev/null
  openssl x509 -req -in "$name/node.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 -sha256 \
    -out "$name/node.pem" -extfile <(printf '%s\n' \
      "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" \
      "subjectAltName=DNS:$name,IP:$prefix.3$i,DNS:galera-lb,IP:$prefix.10,DNS:localhost,IP:127.0.0.1") 2> /dev/null
  rm -f "$name/node.csr"
  cp ca.pem "$name/ca.pem"
  # Read inside the container by root before it installs a copy for mysql.
  chmod 644 "$name/node-key.pem"
done
