#!@busybox@/bin/busybox sh
# Loads the quotes into Redis (the list "quotes") once Redis answers: the quotes pod's init container.
redis() { @redis@/bin/redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" --raw "$@"; }
tries=0
until redis PING >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 300 ]; then
    echo "Redis at ${REDIS_HOST:-127.0.0.1}:${REDIS_PORT:-6379} did not answer within 30 s" >&2
    exit 1
  fi
  @busybox@/bin/busybox sleep 0.1
done
redis DEL quotes >/dev/null
while IFS= read -r line; do
  [ -n "$line" ] && redis RPUSH quotes "$line" >/dev/null
done <@out@/share/quotes/quotes.txt
echo "loaded $(redis LLEN quotes) quotes into Redis"
