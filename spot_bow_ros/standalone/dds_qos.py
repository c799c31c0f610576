"""ROS QoS <-> Cyclone QoS, as rmw_cyclonedds_cpp maps them (`dds_qos` for our endpoints,
`ros_qos_of` for a discovered one)."""

from __future__ import annotations

from cyclonedds.core import Policy, Qos

from ..ros.qos import Durability, History, QoS, Reliability


def dds_qos(qos: QoS, user_data: bytes | None = None) -> Qos:
    """Cyclone QoS for a ROS endpoint, as rmw_cyclonedds_cpp's `create_readwrite_qos` builds it.

    Reliable (max blocking time infinite) or best effort; volatile or transient local (with the
    durability service history equal to the endpoint history); keep-last depth or keep-all;
    autodispose off; XCDR1 data representation only.
    """
    if qos.history == History.KEEP_ALL:
        history = Policy.History.KeepAll
    else:
        history = Policy.History.KeepLast(max(1, int(qos.depth)))
    policies = [Policy.WriterDataLifecycle(autodispose=False), history,
                Policy.DataRepresentation(use_cdrv0_representation=True)]
    if qos.reliability == Reliability.RELIABLE:
        policies.append(Policy.Reliability.Reliable(max_blocking_time=2**63 - 1))
    else:
        policies.append(Policy.Reliability.BestEffort)
    if qos.durability == Durability.TRANSIENT_LOCAL:
        policies.append(Policy.Durability.TransientLocal)
        policies.append(Policy.DurabilityService(cleanup_delay=0, history=history, max_samples=-1,
                                                 max_instances=-1, max_samples_per_instance=-1))
    else:
        policies.append(Policy.Durability.Volatile)
    if user_data:
        policies.append(Policy.Userdata(data=user_data))
    return Qos(*policies)


def ros_qos_of(dds: Qos | None) -> QoS:
    """Our `QoS` from a discovered endpoint's Cyclone QoS (defaults where a policy is absent)."""
    depth, history = 1, History.KEEP_LAST
    reliability, durability = Reliability.RELIABLE, Durability.VOLATILE
    if dds is not None:
        for policy in dds:
            if policy == Policy.Reliability.BestEffort:
                reliability = Reliability.BEST_EFFORT
            elif isinstance(policy, Policy.Reliability.Reliable):
                reliability = Reliability.RELIABLE
            elif policy == Policy.Durability.TransientLocal:
                durability = Durability.TRANSIENT_LOCAL
            elif policy == Policy.History.KeepAll:
                history, depth = History.KEEP_ALL, 0
            elif isinstance(policy, Policy.History.KeepLast):
                depth = policy.depth
    return QoS(depth=depth, reliability=reliability, durability=durability, history=history)
