#!@busybox@/bin/busybox sh
# One HTTP request of quotes @version@: busybox nc connects stdin and stdout to the client.
redis() { @redis@/bin/redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" --raw "$@"; }
reply() { printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n%s\n' "$1" "$2"; }

cr=$(printf '\r')
read -r method target protocol
# Read the headers up to the empty line: closing with unread input would reset the connection.
while read -r header && [ "${header%"$cr"}" != "" ]; do :; done

case "$method $target" in
  "GET /quotes/"*) index="${target#/quotes/}" ;;
  *) reply "404 Not Found" "try GET /quotes/0"; exit 0 ;;
esac
case "$index" in
  "" | *[!0-9]*) reply "404 Not Found" "not a quote number: $index"; exit 0 ;;
esac
if ! quote=$(redis LINDEX quotes "$index" 2>&1); then
  reply "503 Service Unavailable" "cannot reach Redis: $quote"
  exit 0
fi
[ -n "$quote" ] || { reply "404 Not Found" "no quote $index"; exit 0; }
case "@version@" in
  1.*) reply "200 OK" "$quote" ;;
  # 2.0 answers JSON, with the quote's number and the release that served it.
  *) reply "200 OK" "{\"id\": $index, \"quote\": \"$quote\", \"server\": \"quotes @version@\"}" ;;
esac
