#!/bin/sh
# The shop's only page: what the preview runs (its commit), what the migration and the seed wrote to
# the database, and whether the operator's payments key reached it (never the key itself).
cr=$(printf '\r')
query() {
  # Redis' inline protocol through nc: one command, then QUIT so the server closes the connection.
  printf '%s\r\nQUIT\r\n' "$1" | nc db 6379 | {
    read -r reply
    reply=${reply%"$cr"}
    case "$reply" in
      '$-1') ;;                                                 # no such key
      '$'*) read -r value && echo "${value%"$cr"}" ;;           # a string: its length, then the value
      ':'*) echo "${reply#:}" ;;                                # a number
    esac
  }
}
schema=$(query 'GET schema_version')
products=$(query 'LLEN products')
echo 'Content-Type: text/plain'
echo
echo "Shop, pull request #${PULL_REQUEST} at commit ${COMMIT}"
echo "schema version: ${schema:-none}"
echo "products: ${products:-0}"
if [ -n "$PAYMENTS_API_KEY" ]; then echo 'payments key: configured'; else echo 'payments key: missing'; fi
