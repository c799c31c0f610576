"""RobotIdService of the simulated robot."""

from __future__ import annotations

from bosdyn.api import robot_id_pb2, robot_id_service_pb2_grpc

from .clock import RobotClock
from .headers import fill_response_header


def make_robot_id(serial_number: str, nickname: str, arm: bool) -> robot_id_pb2.RobotId:
    """The identity a simulated Spot reports (species `spot`, software 5.2.0)."""
    robot_id = robot_id_pb2.RobotId(serial_number=serial_number, species="spot", version="V3",
                                    nickname=nickname, computer_serial_number=f"{serial_number}-cpu")
    release = robot_id.software_release
    release.version.major_version, release.version.minor_version = 5, 2
    release.name = "spot_bow_ros simulated Spot" + (" with arm" if arm else "")
    release.api_version = "5.2.0"
    return robot_id


class RobotIdServicer(robot_id_service_pb2_grpc.RobotIdServiceServicer):

    def __init__(self, robot_id: robot_id_pb2.RobotId, clock: RobotClock):
        self._robot_id = robot_id
        self._clock = clock

    def GetRobotId(self, request, context):
        received = self._clock.robot_ns()
        response = robot_id_pb2.RobotIdResponse()
        response.robot_id.CopyFrom(self._robot_id)
        fill_response_header(response, request, self._clock, received)
        return response
