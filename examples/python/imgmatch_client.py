"""A small imgmatch client in Python: upload images, query, read match alerts and rejects over Kafka.

Uses only Debian's ``python3-avro`` (1.11) and ``python3-confluent-kafka`` (1.7, librdkafka 2.x)::

    from imgmatch_client import Client

    with Client("localhost:9092") as c:
        c.upload("img-1", tenant="acme", collection="protected", data=open("work.jpg", "rb").read())
        reply = c.query(tenant="acme", image=open("suspect.jpg", "rb").read(), k=5)
        for m in reply["results"]:                     # ranked, best first
            print(m["imageId"], m["collection"], m["score"])
        for rec in c.alerts(follow=True, timeout=60):  # from the beginning of match-alerts
            print(rec.value["imageId"], "copies", rec.value["matches"][0]["imageId"])

Every topic value is an Avro record in single-object encoding (docs/SCHEMAS.md): the bytes ``C3 01``, the writer
schema's CRC-64-AVRO fingerprint (8 bytes, little-endian), then the Avro binary body. The schemas and their
fingerprints come from the released schema directory of the imgmatch checkout (``index.txt`` and the ``.avsc`` files
it lists); nothing here hard-codes a version or a fingerprint. The fingerprints are read from ``index.txt``, never
computed: python3-avro 1.11.1's canonical form differs from Java's for schemas that use a named type twice.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import avro.errors
import avro.io
import avro.schema
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

__all__ = [
    "DEFAULT_SCHEMAS", "DEFAULT_TOPIC_PREFIX", "Client", "ImgmatchError", "Message", "QueryTimeout", "Release",
    "Schemas", "SchemaError", "DecodeError", "UnknownSchemaError",
]

#: The released schemas of the checkout this file is in (examples/python/ -> the repository root).
DEFAULT_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas/src/main/resources/imgmatch/schemas/released"
DEFAULT_TOPIC_PREFIX = "imgmatch."

MAGIC = b"\xc3\x01"
HEADER_BYTES = len(MAGIC) + 8

# The bounds every imgmatch stage enforces (dev.imgmatch.schemas.Limits): checked before sending, as the Java
# client does, so that a record ingest-stream would reject as FIELD_TOO_LARGE or IMAGE_TOO_LARGE is never sent.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_ID_BYTES = 512
MAX_NAME_BYTES = 256
MAX_SOURCE_BYTES = 2048
MAX_ATTRIBUTES = 64
MAX_ATTRIBUTES_BYTES = 16 * 1024
#: max.message.bytes of the uploads and queries topics (an inline image plus the record's other fields).
MAX_MESSAGE_BYTES = 21 * 1024 * 1024

_INDEX_LINE = re.compile(r"^(?P<file>(?P<record>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[0-9]+)\.avsc)\s+"
                         r"(?P<fp>[0-9a-fA-F]{16})$")
_TOPIC_PREFIX = re.compile(r"^[a-zA-Z0-9._-]{0,200}$")

log = logging.getLogger("imgmatch")


class ImgmatchError(Exception):
    """Anything this client refuses or cannot do; the message says what and why, in one line."""


class SchemaError(ImgmatchError):
    """The released schema directory is missing, or index.txt or a schema file in it is invalid."""


class DecodeError(ImgmatchError):
    """A value is not a readable imgmatch record."""


class UnknownSchemaError(DecodeError):
    """A value's fingerprint is not in index.txt: a newer imgmatch wrote it (update the released schemas)."""

    def __init__(self, message: str, fingerprint: int):
        super().__init__(message)
        self.fingerprint = fingerprint


class QueryTimeout(ImgmatchError):
    """No reply to a query within its timeout."""


# --------------------------------------------------------------------------------------------------------------
# Schemas and single-object encoding
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Release:
    """One released schema version: ``<record>.v<version>.avsc`` and its fingerprint from index.txt."""

    file: str
    record: str
    version: int
    fingerprint: int
    schema: avro.schema.RecordSchema

    @property
    def header(self) -> bytes:
        """The 10 bytes every value written with this version starts with."""
        return MAGIC + struct.pack("<Q", self.fingerprint)


class Schemas:
    """The released schemas listed in ``index.txt`` of a directory, by record name and by fingerprint."""

    def __init__(self, directory: Union[str, Path, None] = None):
        self.directory = Path(directory) if directory is not None else DEFAULT_SCHEMAS
        index = self.directory / "index.txt"
        try:
            lines = index.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise SchemaError(f"cannot read {index}: {e.strerror or e} (pass the released schema directory, "
                              f"schemas/src/main/resources/imgmatch/schemas/released in an imgmatch checkout)") from e
        self._by_fingerprint: Dict[int, Release] = {}
        self._by_record: Dict[str, List[Release]] = {}
        for n, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = _INDEX_LINE.match(line)
            if not m:
                raise SchemaError(f"{index}:{n}: expected '<Record>.v<N>.avsc <16 hex digits>', got {line!r}")
            release = self._load(index, n, m)
            if release.fingerprint in self._by_fingerprint:
                raise SchemaError(f"{index}:{n}: fingerprint {m['fp']} is listed twice "
                                  f"({self._by_fingerprint[release.fingerprint].file} and {release.file})")
            self._by_fingerprint[release.fingerprint] = release
            self._by_record.setdefault(release.record, []).append(release)
        if not self._by_fingerprint:
            raise SchemaError(f"{index} lists no schema")
        for versions in self._by_record.values():
            versions.sort(key=lambda r: r.version)

    def _load(self, index: Path, n: int, m: "re.Match[str]") -> Release:
        path = self.directory / m["file"]
        try:
            schema = avro.schema.parse(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise SchemaError(f"{index}:{n}: cannot read {path}: {e.strerror or e}") from e
        except (avro.errors.AvroException, ValueError) as e:
            raise SchemaError(f"{path}: not a valid Avro schema: {e}") from e
        if not isinstance(schema, avro.schema.RecordSchema) or schema.name != m["record"]:
            raise SchemaError(f"{path}: expected the record {m['record']}, "
                              f"found {getattr(schema, 'fullname', schema.type)}")
        return Release(m["file"], m["record"], int(m["version"]), int(m["fp"], 16), schema)

    def latest(self, record: str) -> Release:
        """The highest released version of ``record`` (e.g. ``ImageSubmission``): what a writer uses."""
        versions = self._by_record.get(record)
        if not versions:
            raise SchemaError(f"{self.directory / 'index.txt'} lists no version of {record}")
        return versions[-1]

    def release(self, fingerprint: int) -> Optional[Release]:
        """The release with this fingerprint, or None."""
        return self._by_fingerprint.get(fingerprint)

    def encode(self, record: str, datum: Mapping[str, Any]) -> bytes:
        """``datum`` as a single-object encoded ``record`` of the latest version.

        Fields the datum leaves out take their schema defaults (so a newer released version, whose new fields all
        have defaults, is written without code changes); a missing field without default, or a value of the wrong
        type, raises ImgmatchError naming it.
        """
        release = self.latest(record)
        complete = _complete(release.schema, datum, record)
        buf = io.BytesIO()
        buf.write(release.header)
        try:
            avro.io.DatumWriter(release.schema).write(complete, avro.io.BinaryEncoder(buf))
        except avro.errors.AvroTypeException as e:
            raise ImgmatchError(f"cannot encode {record} as {release.file}: {e}") from e
        return buf.getvalue()

    def decode(self, value: Optional[bytes], expect: Optional[str] = None) -> Tuple[Release, Dict[str, Any]]:
        """Decodes one single-object encoded value; returns its release and the record as a dict.

        Enums come back as their symbol, unions as the branch's value, bytes as ``bytes``.

        :param expect: the record name the value must be (e.g. ``MatchAlert``), or None for any
        :raises DecodeError: not ``C3 01``-prefixed, truncated, unreadable, or another record than ``expect``
        :raises UnknownSchemaError: a fingerprint index.txt does not list
        """
        if value is None:
            raise DecodeError("no value (a tombstone), expected a single-object encoded Avro record")
        if len(value) < HEADER_BYTES or value[:2] != MAGIC:
            raise DecodeError(f"not an Avro single-object encoded record: starts with {value[:2].hex(' ') or '(empty)'}"
                              f", expected c3 01 then an 8-byte fingerprint ({len(value)} bytes in all)")
        (fingerprint,) = struct.unpack_from("<Q", value, 2)
        release = self._by_fingerprint.get(fingerprint)
        if release is None:
            raise UnknownSchemaError(
                f"unknown schema fingerprint {fingerprint:016x} (header {value[:HEADER_BYTES].hex()}): not in "
                f"{self.directory / 'index.txt'}; a newer imgmatch wrote it, update the released schemas", fingerprint)
        if expect is not None and release.record != expect:
            raise DecodeError(f"expected a {expect}, got a {release.record} ({release.file})")
        reader = io.BytesIO(value)
        reader.seek(HEADER_BYTES)
        try:
            datum = avro.io.DatumReader(release.schema).read(avro.io.BinaryDecoder(reader))
        except (avro.errors.AvroException, struct.error, UnicodeDecodeError, ValueError, EOFError) as e:
            raise DecodeError(f"corrupt {release.file} body: {type(e).__name__}: {e}") from e
        if reader.tell() != len(value):
            raise DecodeError(f"{len(value) - reader.tell()} trailing byte(s) after the {release.file} record")
        return release, datum


_MISSING = object()


def _complete(schema: avro.schema.Schema, datum: Any, where: str) -> Any:
    """``datum`` with every record field it lacks set to the field's default (recursively)."""
    if isinstance(schema, avro.schema.RecordSchema):
        if not isinstance(datum, Mapping):
            raise ImgmatchError(f"{where}: expected a {schema.name} record (a dict), got {type(datum).__name__}")
        unknown = set(datum) - {f.name for f in schema.fields}
        if unknown:
            raise ImgmatchError(f"{where}: {schema.name} has no field {', '.join(sorted(unknown))}")
        out = {}
        for f in schema.fields:
            value = datum.get(f.name, _MISSING)
            if value is not _MISSING:
                out[f.name] = _complete(f.type, value, f"{where}.{f.name}")
            elif f.has_default:
                out[f.name] = _from_json_default(f.type, f.default)
            else:
                raise ImgmatchError(f"{where}: the {schema.name} field '{f.name}' is required")
        return out
    if isinstance(schema, avro.schema.UnionSchema):
        # the first branch the value fits once completed (a record branch: the dict's keys are its fields)
        for branch in schema.schemas:
            try:
                candidate = _complete(branch, datum, where)
            except ImgmatchError:
                continue
            if avro.io.validate(branch, candidate):
                return candidate
        return datum  # the writer reports the mismatch
    if isinstance(schema, avro.schema.ArraySchema) and isinstance(datum, list):
        return [_complete(schema.items, x, f"{where}[{i}]") for i, x in enumerate(datum)]
    if isinstance(schema, avro.schema.MapSchema) and isinstance(datum, Mapping):
        return {k: _complete(schema.values, v, f"{where}[{k!r}]") for k, v in datum.items()}
    return datum


def _from_json_default(schema: avro.schema.Schema, value: Any) -> Any:
    """A field default as written in the schema (JSON) -> the value the Avro writer takes."""
    if isinstance(schema, avro.schema.UnionSchema):
        return _from_json_default(schema.schemas[0], value)  # a union's default is of its first branch
    if isinstance(schema, avro.schema.RecordSchema):
        return {f.name: _from_json_default(f.type, value[f.name] if f.name in value else f.default)
                for f in schema.fields}
    if schema.type in ("bytes", "fixed") and isinstance(value, str):
        return value.encode("latin-1")  # JSON encodes bytes defaults as code points 0-255
    if isinstance(schema, avro.schema.ArraySchema):
        return [_from_json_default(schema.items, x) for x in value]
    if isinstance(schema, avro.schema.MapSchema):
        return {k: _from_json_default(schema.values, v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------------------------
# Kafka
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One decoded record of a topic."""

    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: Dict[str, Any]
    release: Release

    @property
    def key_text(self) -> Optional[str]:
        """The key as UTF-8 text (undecodable bytes escaped), or None."""
        return None if self.key is None else self.key.decode("utf-8", "backslashreplace")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _utf8_over(field: str, value: Optional[str], limit: int) -> None:
    n = 0 if value is None else len(value.encode("utf-8"))
    if n > limit:
        raise ImgmatchError(f"{field} has {n} bytes, more than {limit}")


def _kafka_error(what: str, err: Any) -> ImgmatchError:
    if isinstance(err, KafkaException) and err.args:
        err = err.args[0]
    text = err.str() if isinstance(err, KafkaError) else str(err)
    return ImgmatchError(f"{what}: {text}")


class Client:
    """Uploads, queries and topic readers for one imgmatch deployment.

    :param bootstrap: Kafka bootstrap servers, e.g. ``localhost:9092`` (``./imgmatch up`` prints it)
    :param topic_prefix: the deployment's topic prefix (default ``imgmatch.``)
    :param schemas: a :class:`Schemas`, or the released schema directory, or None for the checkout's
    :param kafka_config: extra librdkafka settings for every client (``security.protocol``, ``sasl.*``, ``ssl.*``)

    Not thread-safe; use one per thread. Close it (or use ``with``) to flush and release the producer.
    """

    def __init__(self, bootstrap: str, topic_prefix: str = DEFAULT_TOPIC_PREFIX,
                 schemas: Union[Schemas, str, Path, None] = None, kafka_config: Optional[Mapping[str, Any]] = None):
        if not _TOPIC_PREFIX.match(topic_prefix):
            raise ImgmatchError(f"invalid topic prefix '{topic_prefix}': use letters, digits, '.', '_' or '-'")
        self.bootstrap = bootstrap
        self.prefix = topic_prefix
        self.schemas = schemas if isinstance(schemas, Schemas) else Schemas(schemas)
        self._config: Dict[str, Any] = dict(kafka_config or {})
        self._config["bootstrap.servers"] = bootstrap
        self._config.setdefault("logger", logging.getLogger("imgmatch.librdkafka"))
        self._producer: Optional[Producer] = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self, timeout: float = 10.0) -> None:
        """Waits up to ``timeout`` seconds for records still being sent, then releases the producer."""
        if self._producer is not None:
            self._producer.flush(timeout)
            self._producer = None

    def topic(self, name: str) -> str:
        """A topic's full name: ``uploads`` -> ``imgmatch.uploads``."""
        return self.prefix + name

    # ---- writing ---------------------------------------------------------------------------------------------

    def _produce(self, topic: str, key: str, value: bytes, timeout: float) -> Tuple[int, int]:
        """Sends one record and waits until the broker has it; returns (partition, offset)."""
        if self._producer is None:
            conf = dict(self._config)
            conf.update({
                "enable.idempotence": True,  # acks=all, no duplicates on retry
                "acks": "all",
                "linger.ms": 5,
                "message.max.bytes": MAX_MESSAGE_BYTES + 64 * 1024,  # an inline image plus the request's overhead
            })
            self._producer = Producer(conf)
        done: Dict[str, Any] = {}

        def delivered(err: Optional[KafkaError], msg: Any) -> None:
            done["err"], done["msg"] = err, msg

        try:
            self._producer.produce(topic, value=value, key=key.encode("utf-8"), on_delivery=delivered)
        except (KafkaException, BufferError) as e:
            raise _kafka_error(f"cannot send to {topic}", e) from e
        deadline = time.monotonic() + timeout
        while not done and time.monotonic() < deadline:
            self._producer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
        if not done:
            self._producer.purge()  # give up on it: close() must not wait for it again
            self._producer.poll(0)
            raise ImgmatchError(f"{topic} at {self.bootstrap} did not acknowledge the record within {timeout:g} s "
                                f"(is the broker running and the address right?)")
        if done["err"] is not None:
            raise _kafka_error(f"cannot send to {topic} at {self.bootstrap}", done["err"])
        return done["msg"].partition(), done["msg"].offset()

    def upload(self, image_id: str, tenant: str, data: bytes, collection: str = "uploads",
               file_name: Optional[str] = None, source: Optional[str] = None,
               attributes: Optional[Mapping[str, str]] = None, timeout: float = 30.0) -> Tuple[str, int, int]:
        """Sends one image (inline bytes) to the uploads topic, keyed by ``image_id``; waits for the broker.

        Re-uploading an id replaces that image. ``collection`` is ``protected`` (works to protect), ``banned``,
        ``uploads`` (user uploads, matched against the first two by default) or any collection the deployment
        configures. Refuses, before sending, an image or field over the bounds ingest-stream enforces.

        :returns: (topic, partition, offset) of the record
        """
        if len(data) > MAX_IMAGE_BYTES:
            raise ImgmatchError(f"{len(data)} bytes is over the {MAX_IMAGE_BYTES}-byte inline limit")
        attributes = dict(attributes or {})
        _utf8_over("imageId", image_id, MAX_ID_BYTES)
        _utf8_over("tenant", tenant, MAX_NAME_BYTES)
        _utf8_over("collection", collection, MAX_NAME_BYTES)
        _utf8_over("source", source, MAX_SOURCE_BYTES)
        if len(attributes) > MAX_ATTRIBUTES:
            raise ImgmatchError(f"attributes has {len(attributes)} entries, more than {MAX_ATTRIBUTES}")
        _utf8_over("attributes", "".join(k + v for k, v in attributes.items()), MAX_ATTRIBUTES_BYTES)
        value = self.schemas.encode("ImageSubmission", {
            "imageId": image_id,
            "tenant": tenant,
            "collection": collection,
            "image": {"data": bytes(data), "fileName": file_name},
            "source": source,
            "attributes": attributes,
            "submittedAtMs": _now_ms(),
        })
        topic = self.topic("uploads")
        partition, offset = self._produce(topic, image_id, value, timeout)
        return topic, partition, offset

    # ---- queries ---------------------------------------------------------------------------------------------

    def query(self, tenant: str, image: Optional[bytes] = None, image_id: Optional[str] = None,
              file_name: Optional[str] = None, k: int = 10, timeout: float = 30.0, min_score: float = 0.0,
              collections: Sequence[str] = (), reply_topic: Optional[str] = None,
              gather_partials: bool = False) -> Dict[str, Any]:
        """Asks for the indexed images most similar to an image file (``image``) or an indexed image (``image_id``).

        An image travels through ingest-stream and the embedders first and is never indexed. The reply comes on
        ``reply_topic`` (default: the deployment's ``query-replies``), matched by the query id this call chooses.

        :param collections: only results in these collections (empty: all the tenant may see)
        :param gather_partials: fan-out deployments (one ``query.group.id`` per index-service instance): merge the
            PARTIAL replies of the instances, complete once they cover every shard (as the Java QueryClient does)
        :returns: the QueryReply as a dict: ``status`` (OK, PARTIAL, REJECTED, ERROR), ``error``, ``results``
            (ranked, best first: imageId, tenant, collection, score, exact, pdqDistance, cosine, ...), shards, timing
        :raises QueryTimeout: no reply within ``timeout`` seconds
        """
        if (image is None) == (image_id is None):
            raise ImgmatchError("query needs exactly one of image (the file's bytes) and image_id")
        if not 1 <= k <= 1000:
            raise ImgmatchError(f"k must be 1-1000, got {k}")
        if image is not None and len(image) > MAX_IMAGE_BYTES:
            raise ImgmatchError(f"{len(image)} bytes is over the {MAX_IMAGE_BYTES}-byte inline limit")
        replies = reply_topic or self.topic("query-replies")
        query_id = f"q-{uuid.uuid4()}"
        target = {"data": bytes(image), "fileName": file_name} if image is not None else {"imageId": image_id}
        deadline = time.monotonic() + timeout
        consumer = self._consumer()
        try:
            # Read the reply topic from its current end, pinned before the query is sent: the reply comes after.
            parts = self._partitions(consumer, replies, timeout)
            start = []
            for p in parts:
                try:
                    ends = consumer.get_watermark_offsets(TopicPartition(replies, p), cached=False,
                                                          timeout=max(0.1, deadline - time.monotonic()))
                except KafkaException as e:
                    raise _kafka_error(f"cannot read the end of {replies}", e) from e
                if ends is None:
                    raise QueryTimeout(f"no answer from {self.bootstrap} about the end of {replies} "
                                       f"within {timeout:g} s")
                start.append(TopicPartition(replies, p, ends[1]))
            consumer.assign(start)
            value = self.schemas.encode("QueryRequest", {
                "queryId": query_id,
                "tenant": tenant,
                "target": target,
                "params": {
                    "k": k,
                    "minScore": float(min_score),
                    "filters": {"collections": list(collections)},
                    "replyTopic": replies,
                    "requestedAtMs": _now_ms(),
                    "timeoutMs": int(min(2**31 - 1, timeout * 1000)),
                },
            })
            self._produce(self.topic("queries"), query_id, value, max(0.1, deadline - time.monotonic()))
            partial = _PartialReplies(k) if gather_partials else None
            while time.monotonic() < deadline:
                msg = consumer.poll(min(0.25, max(0.0, deadline - time.monotonic())))
                if msg is None:
                    continue
                if msg.error():
                    raise _kafka_error(f"cannot read {replies}", msg.error())
                if msg.key() != query_id.encode("utf-8"):
                    continue  # another client's reply
                _, reply = self.schemas.decode(msg.value(), expect="QueryReply")
                if reply["queryId"] != query_id:
                    continue
                if partial is None:
                    return reply
                merged = partial.add(reply)
                if merged is not None:
                    return merged
            if partial is not None and partial.parts:
                return partial.merged()  # what the instances answered by the deadline
            raise QueryTimeout(f"no reply to {query_id} on {replies} within {timeout:g} s (is index-service running"
                               f"{', and ingest-stream and embedder-worker for image queries' if image else ''}?)")
        finally:
            consumer.close()

    # ---- reading topics --------------------------------------------------------------------------------------

    def alerts(self, follow: bool = False, timeout: Optional[float] = None,
               on_error: Optional[Callable[[str, DecodeError], None]] = None) -> Iterator[Message]:
        """The match alerts (``MatchAlert``), from the beginning of the match-alerts topic.

        Ends at the topic's end, or with ``follow`` keeps waiting for new ones; ``timeout`` (seconds) ends it in
        any case. Reads committed records only: each alert once. See :meth:`read` for ``on_error``.
        """
        return self.read(self.topic("match-alerts"), "MatchAlert", follow, timeout, on_error)

    def rejects(self, follow: bool = False, timeout: Optional[float] = None,
                on_error: Optional[Callable[[str, DecodeError], None]] = None) -> Iterator[Message]:
        """The dead letters (``Reject``: reasonCode, message, stage, sourceTopic/Partition/Offset, originalKey...),
        from the beginning of the rejects topic; like :meth:`alerts`. The record key is the rejected record's key
        bytes, unchanged."""
        return self.read(self.topic("rejects"), "Reject", follow, timeout, on_error)

    def read(self, topic: str, record: Optional[str] = None, follow: bool = False, timeout: Optional[float] = None,
             on_error: Optional[Callable[[str, DecodeError], None]] = None) -> Iterator[Message]:
        """Every record of ``topic`` from the beginning, decoded, in partition order; no consumer group.

        :param record: the record every value must be (e.g. ``MatchAlert``), or None for any released one
        :param follow: keep waiting for new records instead of ending at the end of the topic
        :param timeout: end after this many seconds in any case (None: no limit)
        :param on_error: called with ``"topic-partition@offset"`` and the error for a value that cannot be decoded
            (unknown fingerprint, not single-object encoded, ...); default: log a warning and go on
        :raises ImgmatchError: the topic does not exist, or Kafka fails
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        consumer = self._consumer(eof=True)
        try:
            parts = self._partitions(consumer, topic, 30.0 if timeout is None else min(30.0, timeout))
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
            at_end = set()
            while follow or at_end != set(parts):
                wait = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
                if wait <= 0:
                    return
                msg = consumer.poll(wait)
                if msg is None:
                    continue
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        at_end.add(msg.partition())
                        continue
                    raise _kafka_error(f"cannot read {topic}", err)
                at_end.discard(msg.partition())
                where = f"{msg.topic()}-{msg.partition()}@{msg.offset()}"
                try:
                    release, value = self.schemas.decode(msg.value(), expect=record)
                except DecodeError as e:
                    (on_error or _warn_undecodable)(where, e)
                    continue
                yield Message(msg.topic(), msg.partition(), msg.offset(), msg.key(), value, release)
        finally:
            consumer.close()

    # ---- helpers ---------------------------------------------------------------------------------------------

    def _consumer(self, eof: bool = False) -> Consumer:
        conf = dict(self._config)
        conf.update({
            # librdkafka wants a group id even though partitions are assigned by hand and nothing is committed
            "group.id": f"{self.prefix}python-client-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            # imgmatch's services write in transactions: never see an aborted attempt, see a committed one once
            "isolation.level": "read_committed",
            "enable.partition.eof": eof,
        })
        return Consumer(conf)

    def _partitions(self, consumer: Consumer, topic: str, timeout: float) -> List[int]:
        """The topic's partitions; an error naming the topic when it does not exist."""
        try:
            md = consumer.list_topics(topic, timeout=timeout)
        except KafkaException as e:
            raise _kafka_error(f"cannot reach Kafka at {self.bootstrap}", e) from e
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            raise ImgmatchError(f"topic {topic} does not exist at {self.bootstrap} (is the stack running? "
                                f"`./imgmatch up` creates it; is the topic prefix '{self.prefix}' right?)")
        return sorted(t.partitions)


def _warn_undecodable(where: str, error: DecodeError) -> None:
    log.warning("skipping %s: %s", where, error)


class _PartialReplies:
    """Merges the PARTIAL replies of several index-service instances to one query (the Java PartialReplies)."""

    def __init__(self, k: int):
        self.k = k
        self.parts: List[Dict[str, Any]] = []
        self.answered = 0

    def add(self, reply: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The merged reply once the query is answered (every shard, or a final status), else None."""
        if reply["status"] != "PARTIAL":
            return reply
        self.parts.append(reply)
        self.answered += reply["shardsAnswered"]
        return self.merged() if self.answered >= reply["shardsTotal"] else None

    def merged(self) -> Dict[str, Any]:
        best: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for r in self.parts:
            for m in r["results"]:
                key = (m["tenant"], m["imageId"])
                if key not in best or m["score"] > best[key]["score"]:
                    best[key] = m
        answered = sum(r["shardsAnswered"] for r in self.parts)
        total = max(r["shardsTotal"] for r in self.parts)
        complete = answered >= total
        out = dict(self.parts[0])
        out.update({
            "status": "OK" if complete else "PARTIAL",
            "error": None if complete else f"only {answered} of {total} shards answered before the deadline",
            "results": sorted(best.values(), key=lambda m: -m["score"])[:self.k],
            "shardsAnswered": min(answered, total),
            "shardsTotal": total,
            "modelVersion": next((r["modelVersion"] for r in self.parts if r["modelVersion"]), None),
            "tookMs": max(r["tookMs"] for r in self.parts),
            "repliedAtMs": max(r["repliedAtMs"] for r in self.parts),
        })
        return out
