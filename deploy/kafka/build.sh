#!/usr/bin/env bash
# Assembles a runnable Apache Kafka broker from the official Maven Central jars into
# deploy/kafka/lib/<version>/, once per version; later runs only print that directory.
#
#   deploy/kafka/build.sh                      # KAFKA_VERSION defaults to 3.9.1
#   KAFKA_VERSION=4.1.1 deploy/kafka/build.sh
#
# Stdout is exactly one line, the lib directory (callers read it); progress goes to stderr.
set -euo pipefail

die() {
  echo "deploy/kafka/build.sh: $*" >&2
  exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${KAFKA_VERSION:-3.9.1}"
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "KAFKA_VERSION must be a release such as 3.9.1, not '$version'"
major="${BASH_REMATCH[1]}"
minor="${BASH_REMATCH[2]}"
# 3.9 is the first release whose single-node KRaft setup (static voter, no ZooKeeper) we rely on.
((major > 3 || (major == 3 && minor >= 9))) || die "Kafka $version is too old: 3.9 or newer is needed"

lib="$here/lib/$version"
# Written last, so a directory without it is an interrupted build, never one in use.
marker="$lib/.complete"
if [[ -f $marker ]]; then
  echo "$lib"
  exit 0
fi

for tool in java javac jar mvn; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found on PATH: install a Java 17 JDK (java, javac, jar) and Maven 3.8+, e.g. apt-get install openjdk-17-jdk-headless maven"
done

# The broker's POM carries no logging backend, and the one it needs changed with 4.0 (log4j2).
if ((major >= 4)); then
  profile=kafka4-logging
  log_config="-Dlog4j2.configurationFile=$here/config/log4j2.properties"
else
  profile=kafka3-logging
  log_config="-Dlog4j.configuration=file:$here/config/log4j.properties"
fi

mkdir -p "$here/lib"
# Several Jest workers may start brokers at once: one builds while the others wait for it. Maven
# 3.8 does not lock its local repository, so two concurrent downloads could corrupt it.
exec 9>"$here/lib/.build.lock"
flock 9
if [[ -f $marker ]]; then
  echo "$lib"
  exit 0
fi

staging="$(mktemp -d "$here/lib/.staging-$version.XXXXXX")"
training=""
trap 'rm -rf "$staging" ${training:+"$training"}' EXIT
chmod 755 "$staging" # mktemp's 0700 would hide the jars from other users of a shared checkout

echo "Assembling Apache Kafka $version from Maven Central into $lib (first time only)..." >&2
mvn -B -q -f "$here/pom.xml" package \
  -Dkafka.version="$version" -Dkafka.lib.dir="$staging" -P "$profile" >&2 ||
  die "mvn could not fetch Kafka $version (is Maven Central reachable, and is $version a released version?)"

# The launcher that formats the storage, starts the broker and halts it when its owner dies (see
# src/seismo/kafka/BrokerLauncher.java). --release 11 keeps it loadable by any JVM a broker runs on.
javac -nowarn --release 11 -d "$staging/classes" "$here/src/seismo/kafka/BrokerLauncher.java" >&2
jar cf "$staging/seismo-kafka-launcher.jar" -C "$staging/classes" .
rm -rf "$staging/classes"

# Fail here, not at the first test, if the classes the launcher calls are not where it looks.
for class in kafka/Kafka.class kafka/tools/StorageTool.class; do
  jar tf "$staging/kafka_2.13-$version.jar" | grep -qx "$class" ||
    die "kafka_2.13-$version.jar has no $class: this version's layout is not supported"
done

rm -rf "$lib" # leftovers of an interrupted build (no marker)
mv "$staging" "$lib"

# Class-data sharing (AppCDS): a training run records the classes a broker loads into an archive
# that later JVMs map instead of loading and verifying them again. On a busy 2-core machine a
# broker is then ready in about half the time, with 40% less CPU and 70 MB less RSS. Optional:
# without it brokers start all the same. Recorded after the move because it names the jars by
# absolute path; a JVM whose class path differs (a checkout moved elsewhere: rm -rf lib/<version>)
# or another JDK build ignores it and starts without it.
train_class_data_sharing() {
  training="$(mktemp -d)"
  # Any two free ports will do, and a clash only costs the archive: bash cannot ask for port 0.
  local port=$((20000 + RANDOM % 20000)) pid i
  cat >"$training/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
controller.listener.names=CONTROLLER
log.dirs=$training/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
  # The launcher's stdin is a FIFO that this shell holds open on fd 7: if build.sh dies, the
  # training broker halts with it.
  mkfifo "$training/stdin"
  java @"$here/config/jvm.options" -Xmx512m -XX:ArchiveClassesAtExit="$lib/kafka.jsa" "$log_config" \
    -cp "$lib/*" seismo.kafka.BrokerLauncher "$training/server.properties" AAAAAAAAAAAAAAAAAAAAAA \
    <"$training/stdin" >"$training/broker.log" 2>&1 &
  pid=$!
  exec 7>"$training/stdin"
  for ((i = 0; i < 1200; i++)); do
    grep -q 'Kafka Server started' "$training/broker.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # SIGTERM, not closing stdin: the archive is written by a normal JVM exit, never by a halt.
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  exec 7>&-
  if ! grep -q 'Kafka Server started' "$training/broker.log" ||
    ! java @"$here/config/jvm.options" -Xshare:on -XX:SharedArchiveFile="$lib/kafka.jsa" \
      -cp "$lib/*" -version >/dev/null 2>&1; then
    tail -n 20 "$training/broker.log" >&2
    rm -f "$lib/kafka.jsa"
    return 1
  fi
}
echo "Recording a class-data sharing archive for faster broker starts (one broker start and stop)..." >&2
train_class_data_sharing ||
  echo "deploy/kafka/build.sh: warning: no class-data sharing archive; brokers will start about twice slower" >&2

touch "$marker"
echo "Kafka $version is ready in $lib" >&2
echo "$lib"
