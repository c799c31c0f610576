"""Real bosdyn clients against the simulated Spot's infrastructure services (TLS, auth, directory,
directory registration with payload proxying, payload registration, time sync, faults)."""

from __future__ import annotations

import time
from concurrent import futures

import bosdyn.client
import grpc
import numpy as np
import pytest
from bosdyn.api import (
    directory_pb2,
    directory_service_pb2_grpc,
    header_pb2,
    image_pb2,
    image_service_pb2_grpc,
    payload_pb2,
    service_fault_pb2,
)
from bosdyn.client.auth import AuthClient, InvalidLoginError, InvalidTokenError
from bosdyn.client.directory import DirectoryClient, NonexistentServiceError
from bosdyn.client.directory_registration import (
    DirectoryRegistrationClient,
    DirectoryRegistrationKeepAlive,
    ServiceAlreadyExistsError,
    ServiceDoesNotExistError,
)
from bosdyn.client.exceptions import RpcError, UnauthenticatedError
from bosdyn.client.fault import FaultClient, ServiceFaultAlreadyExistsError, ServiceFaultDoesNotExistError
from bosdyn.client.image import ImageClient
from bosdyn.client.image_service_helpers import CameraBaseImageServicer, CameraInterface, VisualImageSource
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)

from spot_bow_ros.convert import time as tconv
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.certs import generate_certificates

OFFSET_S = 100.0


@pytest.fixture(scope="module")
def sim():
    with SimulatedSpot(clock_offset_s=OFFSET_S, arm=False, body=False) as spot:
        yield spot


@pytest.fixture
def make_robot(sim):
    made = []

    def make(ca_cert=None, name="test-client"):
        sdk = bosdyn.client.create_standard_sdk(name, cert_resource_glob=ca_cert or sim.info["ca_cert"])
        robot = sdk.create_robot(sim.info["hostname"])
        robot.update_secure_channel_port(sim.port)
        made.append((sdk, robot))
        return robot

    yield make
    for sdk, robot in made:
        sdk.clear_robots()
        robot.shutdown()


@pytest.fixture
def robot(sim, make_robot):
    robot = make_robot()
    robot.authenticate(sim.info["username"], sim.info["password"], timeout=5)
    return robot


def test_auth_ok_and_robot_id(sim, robot):
    assert robot.user_token
    robot_id = robot.get_id()
    assert robot_id.species == "spot"
    assert robot_id.serial_number == sim.info["serial_number"]


def test_wrong_password_raises_invalid_login(sim, make_robot):
    robot = make_robot()
    with pytest.raises(InvalidLoginError):
        robot.authenticate(sim.info["username"], sim.info["password"] + "x", timeout=5)
    with pytest.raises(InvalidLoginError):
        robot.authenticate("nobody", sim.info["password"], timeout=5)
    assert robot.user_token is None


def test_client_trusting_another_ca_is_refused(sim, make_robot, tmp_path):
    other = generate_certificates(tmp_path / "other-ca")
    robot = make_robot(ca_cert=str(other.ca_cert_path))
    with pytest.raises(RpcError) as err:  # bosdyn's subclass depends on digits in the message
        robot.authenticate(sim.info["username"], sim.info["password"], timeout=3)
    details = err.value.error.details()  # the gRPC error behind bosdyn's
    assert "CERTIFICATE_VERIFY_FAILED" in details or "handshake" in details.lower()
    assert robot.user_token is None


def test_services_need_a_token(sim, make_robot):
    robot = make_robot()
    with pytest.raises(UnauthenticatedError):
        robot.ensure_client(DirectoryClient.default_service_name).list(timeout=3)


def test_token_refresh(sim, robot):
    auth = robot.ensure_client(AuthClient.default_service_name)
    fresh = auth.auth_with_token(robot.user_token, timeout=3)
    assert fresh and fresh != robot.user_token
    with pytest.raises(InvalidTokenError):
        auth.auth_with_token(fresh[:-2] + "xx", timeout=3)


def test_response_header_echoes_request_on_robot_clock(sim, robot):
    stub = directory_service_pb2_grpc.DirectoryServiceStub(robot.ensure_secure_channel("api.spot.robot"))
    request = directory_pb2.ListServiceEntriesRequest()
    request.header.client_name = "header-check"
    request.header.request_timestamp.GetCurrentTime()
    response = stub.ListServiceEntries(request, timeout=3)
    assert response.header.error.code == header_pb2.CommonError.CODE_OK
    assert response.header.request_header.client_name == "header-check"
    received_ns = tconv.timestamp_to_ns(response.header.request_received_timestamp)
    assert abs(received_ns - (time.time_ns() + OFFSET_S * 1e9)) < 0.5e9


def test_directory_list_and_get(sim, robot):
    entries = {e.name: e for e in robot.list_services()}
    assert entries["auth"].authority == "auth.spot.robot"
    assert entries["robot-id"].authority == "id.spot.robot"
    assert entries["payload-registration"].authority == "payload-registration.spot.robot"
    for name in ("directory", "directory-registration", "time-sync", "fault"):
        assert entries[name].authority == "api.spot.robot"
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    assert directory.get_entry("time-sync", timeout=3).type == "bosdyn.api.TimeSyncService"
    with pytest.raises(NonexistentServiceError):
        directory.get_entry("no-such-service", timeout=3)


def test_time_sync_with_offset_converts_within_5ms(sim, robot):
    thread = robot.time_sync
    thread.wait_for_sync(timeout_sec=3)
    skew_ns = tconv.duration_to_ns(thread.endpoint.clock_skew)
    assert abs(skew_ns - OFFSET_S * 1e9) < 5e6
    local_ns = time.time_ns()
    robot_stamp = tconv.ns_to_timestamp(sim.clock.robot_ns(local_ns))   # a stamp the robot sends
    assert abs(tconv.robot_timestamp_to_local_ns(robot_stamp, skew_ns) - local_ns) < 5e6
    sec, nanosec = tconv.robot_timestamp_to_ros_stamp(robot_stamp, skew_ns)
    assert abs(sec * 10**9 + nanosec - local_ns) < 5e6
    # and the other way: bosdyn's own conversion agrees with the sim's clock
    robot_ts = thread.robot_timestamp_from_local_secs(local_ns / 1e9)
    assert abs(tconv.timestamp_to_ns(robot_ts) - sim.clock.robot_ns(local_ns)) < 5e6


def test_time_sync_follows_drift(make_robot):
    with SimulatedSpot(clock_offset_s=-20.0, clock_drift_ppm=200.0, arm=False, body=False) as drifting:
        sdk = bosdyn.client.create_standard_sdk("drift", cert_resource_glob=drifting.info["ca_cert"])
        robot = sdk.create_robot("127.0.0.1")
        robot.update_secure_channel_port(drifting.port)
        try:
            robot.authenticate(drifting.info["username"], drifting.info["password"], timeout=5)
            robot.time_sync.wait_for_sync(timeout_sec=3)
            skew_ns = tconv.duration_to_ns(robot.time_sync.endpoint.clock_skew)
            now = time.time_ns()
            assert abs(skew_ns - (drifting.clock.robot_ns(now) - now)) < 5e6
        finally:
            sdk.clear_robots()
            robot.shutdown()


def test_payload_registration_and_payload_credentials(sim, make_robot):
    # the simulator's own payload credentials (as in the info file)
    payload_robot = make_robot(name="payload")
    payload_robot.authenticate_from_payload_credentials(sim.info["payload_guid"], sim.info["payload_secret"],
                                                        timeout=3)
    assert payload_robot.list_services()

    # register a new payload the way the SDK's payload example does, then authenticate as it
    newcomer = make_robot(name="newcomer")
    payload = payload_pb2.Payload(GUID="78b076a2-b4ba-491d-a099-738928c4410c", name="test payload",
                                  is_noncompute_payload=False)
    newcomer.register_payload_and_authenticate(payload, "s3cret-newcomer", timeout=3)
    assert newcomer.user_token and newcomer.list_services()
    assert sim.payloads.get(payload.GUID).is_authorized

    registration = newcomer.ensure_client(PayloadRegistrationClient.default_service_name)
    with pytest.raises(InvalidPayloadCredentialsError):
        registration.get_payload_auth_token(payload.GUID, "wrong-secret", timeout=3)

    sim.payloads.auto_authorize = False
    try:
        pending = payload_pb2.Payload(GUID="0f3c6a39-0f37-4a4b-9d36-3c1d2f1c9b7e", name="pending")
        registration.register_payload(pending, "pending-secret", timeout=3)
        with pytest.raises(PayloadNotAuthorizedError):
            registration.get_payload_auth_token(pending.GUID, "pending-secret", timeout=3)
        sim.payloads.authorize(pending.GUID)
        assert registration.get_payload_auth_token(pending.GUID, "pending-secret", timeout=3)
    finally:
        sim.payloads.auto_authorize = True


def test_fault_service(sim, robot):
    faults = robot.ensure_client(FaultClient.default_service_name)
    fault = service_fault_pb2.ServiceFault(
        fault_id=service_fault_pb2.ServiceFaultId(fault_name="lens cap", service_name="cam-test"),
        error_message="lens covered", severity=service_fault_pb2.ServiceFault.SEVERITY_WARN)
    faults.trigger_service_fault(fault, timeout=3)
    assert [f.error_message for f in sim.faults.active()
            if f.fault_id.service_name == "cam-test"] == ["lens covered"]
    with pytest.raises(ServiceFaultAlreadyExistsError):
        faults.trigger_service_fault(fault, timeout=3)
    faults.clear_service_fault(fault.fault_id, timeout=3)
    assert not [f for f in sim.faults.active() if f.fault_id.service_name == "cam-test"]
    with pytest.raises(ServiceFaultDoesNotExistError):
        faults.clear_service_fault(fault.fault_id, timeout=3)


# -- a payload image service, registered in the directory and reached through the robot ----------

class CountingCamera(CameraInterface):
    """A 4x6 grey camera whose pixels all equal the frame counter."""

    def __init__(self):
        self.frames = 0

    def blocking_capture(self, **kwargs):
        self.frames += 1
        return np.full((4, 6), self.frames % 256, np.uint8), time.time()

    def image_decode(self, image_data, image_proto, image_req):
        image_proto.format = image_pb2.Image.FORMAT_RAW
        image_proto.pixel_format = image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U8
        image_proto.rows, image_proto.cols = image_data.shape
        image_proto.data = image_data.tobytes()


def test_payload_service_is_proxied_by_authority(sim, make_robot):
    payload_robot = make_robot(name="web-cam-payload")
    payload_robot.authenticate_from_payload_credentials(sim.info["payload_guid"], sim.info["payload_secret"],
                                                        timeout=3)
    source = VisualImageSource("webcam0", CountingCamera(), rows=4, cols=6,
                               pixel_formats=[image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U8])
    servicer = CameraBaseImageServicer(payload_robot, "web-cam-service", [source],
                                       use_background_capture_thread=False)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    image_service_pb2_grpc.add_ImageServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    registration = payload_robot.ensure_client(DirectoryRegistrationClient.default_service_name)
    keep_alive = DirectoryRegistrationKeepAlive(registration)  # as in the web-cam tutorial
    try:
        keep_alive.start("web-cam-service", "bosdyn.api.ImageService", "robot-web-cam", "127.0.0.1", port)

        user = make_robot(name="user")
        user.authenticate(sim.info["username"], sim.info["password"], timeout=3)
        user.sync_with_directory()  # a real robot needs this too for services registered later
        images = user.ensure_client("web-cam-service")
        assert isinstance(images, ImageClient)
        assert user.authorities_by_name["web-cam-service"] == "robot-web-cam.spot.robot"
        assert [s.name for s in images.list_image_sources(timeout=3)] == ["webcam0"]
        first = images.get_image_from_sources(["webcam0"], timeout=3)[0]
        second = images.get_image_from_sources(["webcam0"], timeout=3)[0]
        assert (first.shot.image.rows, first.shot.image.cols) == (4, 6)
        assert second.shot.image.data[0] == (first.shot.image.data[0] + 1) % 256
        assert ("/bosdyn.api.ImageService/GetImage", "robot-web-cam.spot.robot") in sim.calls

        # unauthenticated callers are refused before reaching the payload
        anonymous = make_robot(name="anonymous")
        anonymous.sync_with_services_list(user.list_services())
        with pytest.raises(UnauthenticatedError):
            anonymous.ensure_client("web-cam-service").list_image_sources(timeout=3)

        keep_alive.shutdown()  # stops re-registering
        keep_alive.unregister()
        assert sim.directory.get("web-cam-service") is None
        with pytest.raises(RpcError):
            images.list_image_sources(timeout=3)
    finally:
        keep_alive.shutdown()
        server.stop(0)


def test_directory_registration_statuses(sim, robot):
    registration = robot.ensure_client(DirectoryRegistrationClient.default_service_name)
    registration.register("svc-a", "bosdyn.api.ImageService", "svc-a", "127.0.0.1", 5000, timeout=3)
    assert sim.directory.get("svc-a").authority == "svc-a.spot.robot"
    assert sim.directory.route("svc-a.spot.robot").port == 5000
    with pytest.raises(ServiceAlreadyExistsError):
        registration.register("svc-a", "bosdyn.api.ImageService", "svc-a", "127.0.0.1", 5000, timeout=3)
    registration.update("svc-a", "bosdyn.api.ImageService", "svc-a", "127.0.0.1", 5001, timeout=3)
    assert sim.directory.route("svc-a").port == 5001
    with pytest.raises(ServiceDoesNotExistError):
        registration.update("nope", "bosdyn.api.ImageService", "nope", "127.0.0.1", 5001, timeout=3)
    registration.unregister("svc-a", timeout=3)
    assert sim.directory.route("svc-a.spot.robot") is None
    with pytest.raises(ServiceDoesNotExistError):
        registration.unregister("svc-a", timeout=3)
    with pytest.raises(ServiceDoesNotExistError):
        registration.unregister("auth", timeout=3)  # the robot's own services stay
