#!/usr/bin/python3
"""imgmatch from Python: upload an image, query, print match alerts and rejects (see README.md beside this file).

    /usr/bin/python3 imgmatch_example.py upload --bootstrap localhost:9092 --collection protected work.jpg
    /usr/bin/python3 imgmatch_example.py query  --bootstrap localhost:9092 --k 5 suspect.jpg
    /usr/bin/python3 imgmatch_example.py alerts --bootstrap localhost:9092 --wait-for suspect.jpg --timeout 60
    /usr/bin/python3 imgmatch_example.py rejects --bootstrap localhost:9092

Every command prints JSON lines on stdout and problems on stderr; it exits 0 on success, 1 on failure (one line on
stderr says why) and 2 on a usage error.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List

# the library lives beside this script
sys.path.insert(0, str(Path(__file__).resolve().parent))

from imgmatch_client import (  # noqa: E402
    DEFAULT_SCHEMAS, DEFAULT_TOPIC_PREFIX, Client, DecodeError, ImgmatchError, Message)

PROG = Path(sys.argv[0]).name or "imgmatch_example.py"


def main(argv: List[str]) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(format=f"{PROG} {args.command}: %(name)s: %(message)s", level=logging.WARNING)
    if not args.verbose:  # librdkafka retries what it can; the error that matters ends the command in one line
        logging.getLogger("imgmatch.librdkafka").setLevel(logging.CRITICAL)
    try:
        with Client(args.bootstrap, args.topic_prefix, args.schemas, read_config(args.kafka_config)) as client:
            return args.run(client, args)
    except ImgmatchError as e:
        return fail(args, str(e))
    except OSError as e:  # the image file, the schemas, the config file
        return fail(args, f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}")
    except KeyboardInterrupt:
        return 130


def fail(args: argparse.Namespace, message: str) -> int:
    print(f"{PROG} {args.command}: {message}", file=sys.stderr)
    return 1


def emit(obj: Dict[str, Any]) -> None:
    """One JSON line on stdout, flushed (followers see each record at once)."""
    print(json.dumps(obj, ensure_ascii=False, default=_bytes_as_base64), flush=True)


def _bytes_as_base64(o: Any) -> Any:
    if isinstance(o, bytes):
        return base64.b64encode(o).decode("ascii")
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


# ---- commands ------------------------------------------------------------------------------------------------

def upload(client: Client, args: argparse.Namespace) -> int:
    data = args.file.read_bytes()
    image_id = args.id if args.id is not None else args.file.name
    topic, partition, offset = client.upload(image_id, tenant=args.tenant, data=data, collection=args.collection,
                                             file_name=args.file.name, source=args.source,
                                             attributes=dict(args.attribute), timeout=args.timeout)
    emit({"imageId": image_id, "file": str(args.file), "bytes": len(data), "topic": topic, "partition": partition,
          "offset": offset})
    print(f"{PROG} upload: {image_id} ({len(data)} bytes) sent to {topic} at {args.bootstrap} as tenant "
          f"'{args.tenant}', collection '{args.collection}'", file=sys.stderr)
    return 0


def query(client: Client, args: argparse.Namespace) -> int:
    image = args.file.read_bytes() if args.file is not None else None
    reply = client.query(args.tenant, image=image, image_id=args.id,
                         file_name=args.file.name if args.file is not None else None, k=args.k, timeout=args.timeout,
                         min_score=args.min_score, collections=args.collection, gather_partials=args.gather)
    for rank, match in enumerate(reply["results"], 1):
        emit({"rank": rank, **match})
    print(f"{PROG} query: {reply['queryId']}: {reply['status']}, {len(reply['results'])} result(s), "
          f"{reply['shardsAnswered']}/{reply['shardsTotal']} shards, {reply['tookMs']} ms"
          f"{': ' + reply['error'] if reply['error'] else ''}", file=sys.stderr)
    return 0 if reply["status"] == "OK" else 1


def alerts(client: Client, args: argparse.Namespace) -> int:
    return follow_topic(client.alerts, args, "alert", lambda m: m.value["imageId"], lambda m: m.value)


def rejects(client: Client, args: argparse.Namespace) -> int:
    def line(m: Message) -> Dict[str, Any]:
        r = m.value
        return {
            "key": m.key_text,
            "reasonCode": r["reasonCode"],
            "message": r["message"],
            "stage": r["stage"],
            "source": f"{r['sourceTopic']}-{r['sourcePartition']}@{r['sourceOffset']}",
            "exception": r.get("exception"),
            "originalValueSize": r.get("originalValueSize"),
            "rejectedAtMs": r["rejectedAtMs"],
        }
    return follow_topic(client.rejects, args, "reject", lambda m: m.key_text, line)


def follow_topic(read, args: argparse.Namespace, what: str, key_of, line_of) -> int:
    """Prints a topic from its beginning: to its end, or --follow, or until the --wait-for record is printed."""
    def skipped(where: str, error: DecodeError) -> None:
        print(f"{PROG} {args.command}: skipping {where}: {error}", file=sys.stderr)

    timeout = args.timeout
    if args.wait_for is not None and timeout is None:
        timeout = 60.0
    for m in read(follow=args.follow or args.wait_for is not None, timeout=timeout, on_error=skipped):
        emit(line_of(m))
        if args.wait_for is not None and key_of(m) == args.wait_for:
            return 0
    if args.wait_for is not None:
        return fail(args, f"no {what} for {args.wait_for} within {timeout:g} s")
    return 0


# ---- arguments -----------------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    c = common.add_argument_group("connection")
    c.add_argument("--bootstrap", "-b", default=os.environ.get("IMGMATCH_BOOTSTRAP", "localhost:9092"),
                   help="Kafka bootstrap servers, as `./imgmatch up` prints them "
                        "(default: $IMGMATCH_BOOTSTRAP, else %(default)s)")
    c.add_argument("--topic-prefix", default=os.environ.get("IMGMATCH_TOPIC_PREFIX", DEFAULT_TOPIC_PREFIX),
                   help="topic name prefix (default: $IMGMATCH_TOPIC_PREFIX, else %(default)s)")
    c.add_argument("--schemas", type=Path, metavar="DIR", default=DEFAULT_SCHEMAS,
                   help="released schema directory with index.txt (default: this checkout's, %(default)s)")
    c.add_argument("--kafka-config", type=Path, metavar="FILE",
                   help="file of extra librdkafka settings, key=value per line (security.protocol, sasl.*, ssl.*)")
    c.add_argument("--verbose", "-v", action="store_true", help="print librdkafka's own warnings and errors too")
    tenant = argparse.ArgumentParser(add_help=False)
    tenant.add_argument("--tenant", default=os.environ.get("IMGMATCH_TENANT", "default"),
                        help="tenant (default: $IMGMATCH_TENANT, else %(default)s)")

    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    u = sub.add_parser("upload", parents=[common, tenant], help="send an image to the uploads topic",
                       description="Send one image file to the uploads topic; prints a JSON line with where it went.")
    u.add_argument("file", type=Path, metavar="FILE", help="the image file (JPEG, PNG, GIF, WebP, BMP or TIFF)")
    u.add_argument("--collection", default="uploads",
                   help="protected (works to protect), banned, uploads (user uploads), ... (default: %(default)s)")
    u.add_argument("--id", help="the image id, unique within the tenant; re-using one replaces that image "
                                "(default: the file name)")
    u.add_argument("--source", help="where the image comes from (application, user, crawler)")
    u.add_argument("--attribute", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="free-form metadata copied into alerts (repeatable)")
    u.add_argument("--timeout", type=seconds, default=30.0, help="seconds to wait for the broker (default: 30)")
    u.set_defaults(run=upload)

    q = sub.add_parser("query", parents=[common, tenant], help="find the indexed images most similar to an image",
                       description="Find the indexed images most similar to an image file (sent through ingest and "
                                   "the embedders, never indexed) or to an indexed image (--id). Prints one JSON line "
                                   "per match, best first; status on stderr. Exit 1 when the reply is not OK.")
    target = q.add_mutually_exclusive_group(required=True)
    target.add_argument("file", type=Path, metavar="FILE", nargs="?", help="an image file to look up")
    target.add_argument("--id", help="an indexed image of the tenant to look up instead")
    q.add_argument("--k", "-k", type=int, default=10, help="number of results, 1-1000 (default: %(default)s)")
    q.add_argument("--min-score", type=float, default=0.0, help="drop results scoring below this (0-1)")
    q.add_argument("--collection", action="append", default=[], metavar="C",
                   help="only results in this collection (repeatable; default: all)")
    q.add_argument("--gather", action="store_true",
                   help="fan-out deployments: merge the PARTIAL replies of every index-service instance")
    q.add_argument("--timeout", type=seconds, default=30.0, help="seconds to wait for the reply (default: 30)")
    q.set_defaults(run=query)

    for name, run, what, key in (("alerts", alerts, "match alerts, one JSON line each (the MatchAlert record)",
                                  "the alert whose imageId (the upload) is ID"),
                                 ("rejects", rejects, "rejects (dead letters), one JSON line each: key, reasonCode, "
                                  "message, stage, source", "the reject whose key (the refused record's) is ID")):
        a = sub.add_parser(name, parents=[common], help=f"print {name} from the beginning of the topic",
                           description=f"Print {what}, from the beginning of the topic to its end, or --follow, "
                                       f"or until --wait-for.")
        a.add_argument("--follow", "-f", action="store_true", help="keep printing new ones until Ctrl-C or --timeout")
        a.add_argument("--wait-for", metavar="ID",
                       help=f"read until {key} has been printed, then exit 0; exit 1 at --timeout")
        a.add_argument("--timeout", type=seconds, default=None,
                       help="stop after this many seconds (default: none; 60 with --wait-for)")
        a.set_defaults(run=run)
    return p


def seconds(text: str) -> float:
    try:
        v = float(text.rstrip("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return v


def key_value(text: str):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def read_config(path: Path | None) -> Dict[str, str]:
    """key=value lines (# comments), as in a Java .properties file of Kafka client settings."""
    if path is None:
        return {}
    conf = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ImgmatchError(f"{path}:{n}: expected key=value, got {line!r}")
        conf[key.strip()] = value.strip()
    return conf


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
