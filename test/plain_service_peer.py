"""A plain Cyclone DDS service client following rmw_cyclonedds_cpp's conventions (no project code).

    python plain_service_peer.py CALLS_JSON      (ROS_DOMAIN_ID from the environment)

CALLS_JSON: a list of [service_name, srv ("Trigger" | "SetBool" | "SetParameters" |
"GetParameters" | "DescribeParameters"), args]; prints one JSON line per reply.
Each call: request writer `rq/<name>Request` + reply reader `rr/<name>Reply` (reliable, volatile,
keep-last 10, USER_DATA `clientid=...;`), waits until both match, writes the request with its
header (guid = the writer's instance handle, seq) and takes the reply echoing it.
"""

import json
import os
import sys
import time
from dataclasses import asdict

import plain_ros_types as P
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

TYPES = {
    "Trigger": (P.Trigger_Request_, P.Trigger_Response_),
    "SetBool": (P.SetBool_Request_, P.SetBool_Response_),
    "SetParameters": (P.SetParameters_Request_, P.SetParameters_Response_),
    "GetParameters": (P.GetParameters_Request_, P.GetParameters_Response_),
    "DescribeParameters": (P.DescribeParameters_Request_, P.DescribeParameters_Response_),
}


def value(v):
    if isinstance(v, bool):
        return P.ParameterValue_(1, v, 0, 0.0, "", b"", [], [], [], [])
    if isinstance(v, int):
        return P.ParameterValue_(2, False, v, 0.0, "", b"", [], [], [], [])
    if isinstance(v, float):
        return P.ParameterValue_(3, False, 0, v, "", b"", [], [], [], [])
    return P.ParameterValue_(4, False, 0, 0.0, str(v), b"", [], [], [], [])


def request(cls, srv, args, seq, guid):
    if srv == "Trigger":
        return cls(guid, seq, 0)
    if srv == "SetBool":
        return cls(guid, seq, bool(args))
    if srv == "SetParameters":
        return cls(guid, seq, [P.Parameter_(n, value(v)) for n, v in args.items()])
    return cls(guid, seq, list(args))


def main():
    dp = DomainParticipant(int(os.environ["ROS_DOMAIN_ID"]))
    for i, (name, srv, args) in enumerate(json.loads(sys.argv[1])):
        req_cls, rep_cls = TYPES[srv]
        qos = Qos(Policy.Reliability.Reliable(max_blocking_time=10**9), Policy.History.KeepLast(10),
                  Policy.Durability.Volatile, Policy.DataRepresentation(use_cdrv0_representation=True),
                  Policy.Userdata(data=f"clientid=01.0.0.0.0.0.0.0.0.0.0.0.0.0.0.{i + 1:x};".encode()))
        writer = DataWriter(dp, Topic(dp, f"rq{name}Request", req_cls), qos=qos)
        reader = DataReader(dp, Topic(dp, f"rr{name}Reply", rep_cls), qos=qos)
        deadline = time.monotonic() + 10
        while not (writer.get_matched_subscriptions() and reader.get_matched_publications()):
            if time.monotonic() > deadline:
                print(json.dumps({"service": name, "error": "not available"}), flush=True)
                break
            time.sleep(0.02)
        else:
            guid = writer.get_instance_handle() & (2**64 - 1)
            writer.write(request(req_cls, srv, args, 1, guid))
            reply = None
            while reply is None and time.monotonic() < deadline:
                for sample in reader.take(N=10):
                    if sample.guid == guid and sample.seq == 1:
                        reply = sample
                time.sleep(0.01)
            out = {"service": name, "error": "no reply"} if reply is None else \
                {"service": name, "reply": {k: v for k, v in asdict(reply).items() if k not in ("guid", "seq")}}
            print(json.dumps(out), flush=True)
        writer.__del__()
        reader.__del__()


if __name__ == "__main__":
    main()
