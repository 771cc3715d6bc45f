#!/usr/bin/env bash
# Fetch the Apache Kafka broker jars (KRaft, single node) from Maven Central into
# <repo>/.cache/kafka/libs (git-ignored). Idempotent: does nothing when the jars are present
# for the pinned version. Usage: deploy/kafka/fetch.sh [--force]
# Env: KAFKA_VERSION (default: the one pinned in pom.xml), VEILLE_KAFKA_LIBS (output dir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libs="${VEILLE_KAFKA_LIBS:-$repo/.cache/kafka/libs}"
version="${KAFKA_VERSION:-$(sed -n 's#.*<kafka.version>\(.*\)</kafka.version>.*#\1#p' "$here/pom.xml")}"

if [[ "${1:-}" != "--force" ]] && compgen -G "$libs/kafka_2.13-$version.jar" >/dev/null \
   && compgen -G "$libs/kafka-server-$version.jar" >/dev/null \
   && compgen -G "$libs/log4j-core-*.jar" >/dev/null; then
  echo "kafka $version jars already in $libs ($(ls "$libs" | wc -l) jars)"
  exit 0
fi

command -v mvn >/dev/null || { echo "fetch.sh: mvn (Maven) is required: apt-get install maven" >&2; exit 1; }

tmp="$libs.tmp.$$"
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
mkdir -p "$(dirname "$libs")"
rm -rf "$tmp"
if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
  cat "$tmp.log" >&2
  echo "fetch.sh: mvn failed (is Maven Central reachable? is kafka $version published?)" >&2
  rm -f "$tmp.log"
  exit 1
fi
rm -f "$tmp.log"
# Swap in atomically so a half-done fetch never looks complete.
rm -rf "$libs"
mv "$tmp" "$libs"
echo "kafka $version: $(ls "$libs" | wc -l) jars, $(du -sh "$libs" | cut -f1) in $libs"
