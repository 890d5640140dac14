#!/bin/bash
# Creates imgmatch's topics on the compose broker (idempotent). Partitions: IMGMATCH_PARTITIONS (default 6).
# Keep in step with dev.imgmatch.schemas.Topics (`./imgmatch topics --list`); DeploymentSettingsTest checks it.
set -euo pipefail
B=${BOOTSTRAP:-kafka:9092}
P=${IMGMATCH_PARTITIONS:-6}
PREFIX=${IMGMATCH_TOPIC_PREFIX:-imgmatch.}
BIG="--config max.message.bytes=22020096"
SMALL="--config max.message.bytes=1048576"
for i in $(seq 1 60); do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$B" --list >/dev/null 2>&1 && break
  echo "waiting for Kafka at $B ..."; sleep 2
done
create() { /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$B" --create --if-not-exists --topic "$PREFIX$1" --partitions "${3:-$P}" --replication-factor 1 ${2:-}; }
create uploads "$BIG"
create queries "$BIG"
create prepared "$BIG"
create embeddings "$SMALL --config retention.ms=-1"
create embedding-extras "$SMALL --config retention.ms=604800000"  # an upload's local features and preview, read once: 7 d
create probes "$SMALL"
create match-alerts "$SMALL"
create query-replies "$SMALL"
create deletions "$SMALL"
create rejects "$BIG --config retention.ms=2592000000"
create originals "$BIG --config cleanup.policy=compact --config retention.ms=-1"
create model-serving "$SMALL --config cleanup.policy=compact --config retention.ms=-1" 1  # one partition by contract
create bank-entries "$SMALL --config cleanup.policy=compact --config retention.ms=-1"
create collection-settings "$SMALL --config cleanup.policy=compact --config retention.ms=-1" 1
create review-decisions "$SMALL --config cleanup.policy=delete --config retention.ms=-1"  # the audit trail: kept forever
create previews "$SMALL --config cleanup.policy=compact,delete --config retention.ms=2592000000"  # preview.retention.ms
create reference-previews "$SMALL --config cleanup.policy=compact --config retention.ms=-1"
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$B" --list
