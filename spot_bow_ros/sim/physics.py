"""Kinematic model of Spot for the simulator: body motion, gait, arm, IMU (pure, no bosdyn).

Frames follow Spot's conventions: `odom` (gravity aligned, fixed at boot), `body` (x forward,
y left, z up), `flat_body` (body without roll/pitch). Units: m, rad, s, m/s, rad/s, N·m.

The model is deterministic and analytic so tests can check consistency:
- planar body velocity (vx, vy in the footprint frame, wz) follows its target through a
  first-order lag with acceleration limits; the pose is integrated in SE2 (velocity rotated by yaw);
- height, roll, pitch and body-yaw offset follow second-order critically damped dynamics;
- IMU angular velocity is the body angular velocity in the body frame (from Euler rates), and
  the IMU acceleration is the accelerometer's specific force in the body frame
  (R_odom_body^T (a_body_in_odom + [0, 0, g])), i.e. +9.81 m/s² along body z at rest,
  as an accelerometer measures it and as REP 145 expects;
- legs interpolate between sit and stand postures by height and show a trot while walking;
- the 6-DOF arm (+ gripper) follows joint or Cartesian goals (simplified kinematics, exact FK/IK).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..convert.spot_catalogue import SPOT_ARM_HR0, SPOT_ARM_JOINTS, SPOT_LEG_JOINTS, SPOT_LEGS
from .geometry import Pose, Quat, Vec3, quat_conj, quat_from_rpy, quat_mul, quat_rotate, rpy_from_quat, wrap_angle

GRAVITY = 9.80665

#: The joints a `Snapshot` holds, in `bosdyn.api.spot.JointIndex` order (the catalogue's tables;
#: the sim's names for them): what the state stream sends (12 or 19 unnamed values).
LEG_JOINT_NAMES = SPOT_LEG_JOINTS
ARM_JOINT_NAMES = SPOT_ARM_JOINTS
ARM_HR0 = SPOT_ARM_HR0
#: Polled `RobotState` lists one more arm joint, `arm0.hr0`, with a name and no data (20 entries
#: with an arm), in this order (docs/spot_facts.md, "Joint names and order").
POLLED_ARM_JOINT_NAMES = ("arm0.sh0", "arm0.sh1", ARM_HR0, "arm0.el0", "arm0.el1", "arm0.wr0", "arm0.wr1",
                          "arm0.f1x")
FEET = SPOT_LEGS
#: Hip (hx joint) positions in the body frame and the lateral offset of the leg (m), Spot URDF.
_HIP_XY = {"fl": (0.29785, 0.055), "fr": (0.29785, -0.055), "hl": (-0.29785, 0.055), "hr": (-0.29785, -0.055)}
_LEG_Y = 0.110945

STAND_HEIGHT = 0.52      # body origin above the ground at nominal stand (m)
SIT_HEIGHT = 0.14        # body origin above the ground when sitting (m)
BODY_HEIGHT_RANGE = (-0.2, 0.2)   # accepted offset from the nominal stand height (m); clamped
BODY_ROLL_LIMIT = 0.4    # rad; clamped
BODY_PITCH_LIMIT = 0.5   # rad; clamped
BODY_YAW_LIMIT = 0.5     # rad; clamped
VEL_LIMITS = (1.6, 1.0, 1.5)       # |vx| m/s, |vy| m/s, |wz| rad/s; clamped
ACC_LIMITS = (2.0, 2.0, 4.0)       # m/s², m/s², rad/s²
VEL_TAU = 0.15           # first-order lag of the planar velocity (s)
POSTURE_WN = 8.0         # natural frequency of height/attitude dynamics (rad/s)
GAIT_HZ = 1.8            # trot frequency while walking

# (hx, hy, kn) per leg, rad
_STAND_LEG = (0.0, 0.78, -1.52)
_SIT_LEG = (0.0, 1.25, -2.6)

# arm: shoulder position in body, link lengths (m)
ARM_SHOULDER = (0.292, 0.0, 0.188)
ARM_L1, ARM_L2, ARM_L3 = 0.3385, 0.40, 0.19
ARM_STOW = (0.0, -3.11, 3.13, 0.0, 0.0, 0.0)
GRIPPER_OPEN_ANGLE = -1.5708  # f1x fully open (rad); 0 = closed

# fixed transform between odom and vision, so that bridges that mix them up are caught
VISION_TFORM_ODOM = Pose.from_xyz_rpy(2.0, -1.0, 0.0, yaw=0.5)


@dataclass(frozen=True)
class ImuTruth:
    """One IMU sample as the robot-state stream reports it (mounting link `body`).

    `acceleration`: specific force in the link frame (m/s², includes +g at rest);
    `angular_velocity`: rad/s in the link frame; `odom_rot_link`: (x, y, z, w).
    """

    acceleration: Vec3
    angular_velocity: Vec3
    odom_rot_link: Quat
    mounting_link_name: str = "body"
    position_imu_rt_link: Vec3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Snapshot:
    """The robot's true state at one instant (local and robot clock, ns since the epoch)."""

    local_ns: int
    robot_ns: int
    joint_names: tuple[str, ...]
    joint_position: tuple[float, ...]
    joint_velocity: tuple[float, ...]
    joint_load: tuple[float, ...]
    odom_tform_body: Pose
    vision_tform_body: Pose
    velocity_linear_odom: Vec3          # body velocity in odom, expressed in odom (m/s)
    velocity_angular_odom: Vec3         # rad/s, expressed in odom
    imu: ImuTruth
    powered: bool
    standing: bool
    sitting: bool
    walking: bool
    body_tform_hand: Pose | None = None
    gripper_open_fraction: float = 0.0
    #: Per foot (fl, fr, hl, hr): ground contact, and the foot position in the body frame (m).
    foot_contact: tuple[bool, ...] = (True, True, True, True)
    foot_position_rt_body: tuple[Vec3, ...] = ()

    def joint(self, name: str) -> tuple[float, float, float]:
        """(position, velocity, load) of joint `name`."""
        i = self.joint_names.index(name)
        return self.joint_position[i], self.joint_velocity[i], self.joint_load[i]

    @property
    def odom_tform_flat_body(self) -> Pose:
        p, q = self.odom_tform_body.position, self.odom_tform_body.rotation
        return Pose(p, quat_from_rpy(0.0, 0.0, rpy_from_quat(q)[2]))

    @property
    def velocity_linear_vision(self) -> Vec3:
        return quat_rotate(VISION_TFORM_ODOM.rotation, self.velocity_linear_odom)

    @property
    def velocity_angular_vision(self) -> Vec3:
        return quat_rotate(VISION_TFORM_ODOM.rotation, self.velocity_angular_odom)


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def _approach(v: float, target: float, tau: float, amax: float) -> float:
    """First-order lag derivative towards `target`, acceleration limited."""
    return _clamp((target - v) / tau, -amax, amax)


@dataclass
class _SecondOrder:
    value: float
    rate: float = 0.0
    accel: float = 0.0

    def step(self, target: float, dt: float, wn: float = POSTURE_WN) -> None:
        self.accel = wn * wn * (target - self.value) - 2.0 * wn * self.rate
        self.rate += self.accel * dt
        self.value += self.rate * dt


@dataclass
class _Move:
    """Smooth (smoothstep) interpolation of a vector from `start` to `goal` over a duration."""

    start: tuple[float, ...]
    goal: tuple[float, ...]
    t0_ns: int
    duration_ns: int

    def at(self, t_ns: int) -> tuple[float, ...]:
        u = 1.0 if self.duration_ns <= 0 else _clamp((t_ns - self.t0_ns) / self.duration_ns, 0.0, 1.0)
        s = u * u * (3 - 2 * u)
        return tuple(a + (b - a) * s for a, b in zip(self.start, self.goal))

    def done(self, t_ns: int) -> bool:
        return t_ns >= self.t0_ns + self.duration_ns


def _rot_y(a: float) -> Quat:
    return (0.0, math.sin(a / 2), 0.0, math.cos(a / 2))


def _rot_x(a: float) -> Quat:
    return (math.sin(a / 2), 0.0, 0.0, math.cos(a / 2))


def _rot_z(a: float) -> Quat:
    return (0.0, 0.0, math.sin(a / 2), math.cos(a / 2))


def arm_forward_kinematics(q: tuple[float, ...]) -> Pose:
    """body_tform_hand of the simplified arm for joints (sh0, sh1, el0, el1, wr0, wr1) in rad.

    Chain: shoulder at ARM_SHOULDER, sh0 yaw (z), sh1 pitch (y), upper arm ARM_L1 along x,
    el0 pitch (y), el1 roll (x), forearm ARM_L2, wr0 pitch (y), wr1 roll (x), hand ARM_L3.
    """
    sh0, sh1, el0, el1, wr0, wr1 = q[:6]
    t = Pose(ARM_SHOULDER, _rot_z(sh0)) * Pose((0, 0, 0), _rot_y(sh1))
    t = t * Pose((ARM_L1, 0, 0), _rot_y(el0)) * Pose((0, 0, 0), _rot_x(el1))
    t = t * Pose((ARM_L2, 0, 0), _rot_y(wr0)) * Pose((0, 0, 0), _rot_x(wr1))
    return t * Pose((ARM_L3, 0, 0))


def arm_inverse_kinematics(body_tform_hand: Pose) -> tuple[float, ...]:
    """Joints (sh0, sh1, el0, el1, wr0, wr1) reaching `body_tform_hand` as closely as possible.

    The arm has no wrist yaw, so orientations with a yaw relative to the arm plane are
    approximated; unreachable positions are pulled onto the workspace boundary.
    """
    d = quat_rotate(body_tform_hand.rotation, (1.0, 0.0, 0.0))
    p = body_tform_hand.position
    w = (p[0] - ARM_L3 * d[0] - ARM_SHOULDER[0], p[1] - ARM_L3 * d[1] - ARM_SHOULDER[1],
         p[2] - ARM_L3 * d[2] - ARM_SHOULDER[2])
    sh0 = math.atan2(w[1], w[0]) if math.hypot(w[0], w[1]) > 1e-6 else 0.0
    r = math.hypot(w[0], w[1])
    h = w[2]
    dist = _clamp(math.hypot(r, h), abs(ARM_L1 - ARM_L2) + 1e-3, ARM_L1 + ARM_L2 - 1e-6)
    cos_el = _clamp((dist * dist - ARM_L1 ** 2 - ARM_L2 ** 2) / (2 * ARM_L1 * ARM_L2), -1.0, 1.0)
    el0 = math.acos(cos_el)                      # pitch down at the elbow (elbow up)
    beta = -math.atan2(h, r)                     # pitch-down angle to the wrist point
    sh1 = beta - math.atan2(ARM_L2 * math.sin(el0), ARM_L1 + ARM_L2 * cos_el)
    # remaining wrist rotation: Ry(wr0) Rx(wr1) = (Rz(sh0) Ry(sh1 + el0))^-1 R_target
    fore = quat_mul(_rot_z(sh0), _rot_y(sh1 + el0))
    rw = quat_mul(quat_conj(fore), body_tform_hand.rotation)
    cx = quat_rotate(rw, (1.0, 0.0, 0.0))
    cy = quat_rotate(rw, (0.0, 1.0, 0.0))
    wr0 = math.atan2(-cx[2], cx[0])
    wr1 = math.atan2(cy[0] * math.sin(wr0) + cy[2] * math.cos(wr0), cy[1])
    return (sh0, sh1, el0, 0.0, wr0, wr1)


class SpotPhysics:
    """Spot's body, legs, arm and IMU, advanced by `step(t_ns)` (local clock, ns).

    Command methods set targets; `step` integrates and returns a `Snapshot` (without robot time:
    the caller fills `robot_ns`). Not thread-safe: the owner serializes calls.
    """

    def __init__(self, t_ns: int, arm: bool = True, x: float = 1.0, y: float = 0.5, yaw: float = 0.3):
        self.arm = arm
        self.t_ns = t_ns
        self.x, self.y, self.yaw = x, y, yaw
        self.vx = self.vy = self.wz = 0.0
        self.dvx = self.dvy = self.dwz = 0.0
        self.height = _SecondOrder(SIT_HEIGHT)
        self.roll = _SecondOrder(0.0)
        self.pitch = _SecondOrder(0.0)
        self.yaw_offset = _SecondOrder(0.0)
        self.powered = False
        self.posture = "sit"
        self.offset_target = (0.0, 0.0, 0.0, 0.0)   # height, roll, pitch, yaw
        self.vel_target = (0.0, 0.0, 0.0)
        self.vel_end_ns = 0
        self.vel_frame_yaw: float | None = None   # None: vel_target in the footprint frame
        self.goal: tuple[float, float, float] | None = None  # (x, y, yaw) in odom
        self.goal_end_ns = 0
        self.gait_phase = 0.0
        self.gait_amp = 0.0
        self.arm_q: tuple[float, ...] = ARM_STOW
        self.arm_move: _Move | None = None
        self.gripper_q = 0.0
        self.gripper_move: _Move | None = None
        self._prev_q: tuple[float, ...] | None = None

    # ----- commands -------------------------------------------------------------------------
    def set_power(self, on: bool) -> None:
        self.powered = on
        if not on:
            self.posture = "sit"
            self.stop()

    def stand(self) -> None:
        self.posture = "stand"

    def sit(self) -> None:
        self.stop()
        self.posture = "sit"

    def stop(self) -> None:
        self.vel_target = (0.0, 0.0, 0.0)
        self.vel_end_ns = 0
        self.goal = None

    def set_body_offset(self, height: float, roll: float, pitch: float, yaw: float) -> None:
        """Body height offset from nominal stand (m) and orientation rt footprint (rad), clamped."""
        self.offset_target = (_clamp(height, *BODY_HEIGHT_RANGE),
                              _clamp(roll, -BODY_ROLL_LIMIT, BODY_ROLL_LIMIT),
                              _clamp(pitch, -BODY_PITCH_LIMIT, BODY_PITCH_LIMIT),
                              _clamp(yaw, -BODY_YAW_LIMIT, BODY_YAW_LIMIT))

    def set_velocity(self, vx: float, vy: float, wz: float, end_ns: int,
                     frame_yaw_in_odom: float | None = None) -> None:
        """Walk at (vx, vy) m/s and wz rad/s until local time `end_ns`: (vx, vy) in the footprint
        frame, or (`frame_yaw_in_odom` given) in a fixed frame whose x axis is at that yaw in
        odom (odom: 0), held in that frame while the robot turns."""
        self.goal = None
        self.vel_frame_yaw = frame_yaw_in_odom
        self.vel_target = (_clamp(vx, -VEL_LIMITS[0], VEL_LIMITS[0]),
                           _clamp(vy, -VEL_LIMITS[1], VEL_LIMITS[1]),
                           _clamp(wz, -VEL_LIMITS[2], VEL_LIMITS[2]))
        self.vel_end_ns = end_ns
        self.posture = "stand"

    def set_goal(self, x: float, y: float, yaw: float, end_ns: int) -> None:
        """Walk to (x, y, yaw) in odom, giving up at local time `end_ns`."""
        self.goal = (x, y, yaw)
        self.goal_end_ns = end_ns
        self.vel_target = (0.0, 0.0, 0.0)
        self.posture = "stand"

    def goal_reached(self) -> bool:
        if self.goal is None:
            return False
        return (math.hypot(self.goal[0] - self.x, self.goal[1] - self.y) < 0.03
                and abs(wrap_angle(self.goal[2] - self.yaw)) < 0.03)

    def move_arm(self, goal: tuple[float | None, ...], duration_s: float) -> None:
        """Move arm joints (sh0..wr1; None = keep) to `goal` in `duration_s` seconds."""
        start = self.arm_q
        target = tuple(s if g is None else g for s, g in zip(start, goal))
        self.arm_move = _Move(start, target, self.t_ns, int(max(duration_s, 0.05) * 1e9))

    def move_hand(self, body_tform_hand: Pose, duration_s: float) -> None:
        self.move_arm(arm_inverse_kinematics(body_tform_hand), duration_s)

    def arm_done(self) -> bool:
        return self.arm_move is None or self.arm_move.done(self.t_ns)

    def move_gripper(self, angle: float, duration_s: float) -> None:
        angle = _clamp(angle, GRIPPER_OPEN_ANGLE, 0.0)
        self.gripper_move = _Move((self.gripper_q,), (angle,), self.t_ns, int(max(duration_s, 0.05) * 1e9))

    def gripper_done(self) -> bool:
        return self.gripper_move is None or self.gripper_move.done(self.t_ns)

    # ----- state ----------------------------------------------------------------------------
    @property
    def stand_fraction(self) -> float:
        return _clamp((self.height.value - SIT_HEIGHT) / (STAND_HEIGHT - SIT_HEIGHT), 0.0, 1.0)

    def is_standing(self) -> bool:
        target = STAND_HEIGHT + self.offset_target[0]
        return self.posture == "stand" and abs(self.height.value - target) < 0.01

    def is_sitting(self) -> bool:
        return self.posture == "sit" and abs(self.height.value - SIT_HEIGHT) < 0.01

    def _planar_target(self) -> tuple[float, float, float]:
        if not self.powered or self.posture != "stand" or self.stand_fraction < 0.9:
            return (0.0, 0.0, 0.0)
        if self.goal is not None:
            if self.t_ns > self.goal_end_ns:
                self.goal = None
                return (0.0, 0.0, 0.0)
            c, s = math.cos(self.yaw), math.sin(self.yaw)
            dx, dy = self.goal[0] - self.x, self.goal[1] - self.y
            ex, ey = c * dx + s * dy, -s * dx + c * dy
            eyaw = wrap_angle(self.goal[2] - self.yaw)
            return (_clamp(1.5 * ex, -0.6, 0.6), _clamp(1.5 * ey, -0.4, 0.4), _clamp(1.5 * eyaw, -0.6, 0.6))
        if self.t_ns >= self.vel_end_ns:
            return (0.0, 0.0, 0.0)
        if self.vel_frame_yaw is not None:   # fixed-frame velocity -> footprint frame, now
            vx, vy, wz = self.vel_target
            a = self.vel_frame_yaw - self.yaw
            c, s = math.cos(a), math.sin(a)
            return (c * vx - s * vy, s * vx + c * vy, wz)
        return self.vel_target

    def step(self, t_ns: int) -> Snapshot:
        """Advance to local time `t_ns` and return the state (robot_ns left 0 for the caller)."""
        dt = max(0.0, (t_ns - self.t_ns) * 1e-9)
        dt = min(dt, 0.05)
        self.t_ns = t_ns
        # planar velocity (footprint frame) and SE2 pose
        tvx, tvy, twz = self._planar_target()
        self.dvx = _approach(self.vx, tvx, VEL_TAU, ACC_LIMITS[0])
        self.dvy = _approach(self.vy, tvy, VEL_TAU, ACC_LIMITS[1])
        self.dwz = _approach(self.wz, twz, VEL_TAU, ACC_LIMITS[2])
        vx0, vy0, wz0 = self.vx, self.vy, self.wz
        self.vx += self.dvx * dt
        self.vy += self.dvy * dt
        self.wz += self.dwz * dt
        yaw_mid = self.yaw + 0.5 * (wz0 + self.wz) * 0.5 * dt
        mvx, mvy = 0.5 * (vx0 + self.vx), 0.5 * (vy0 + self.vy)
        c, s = math.cos(yaw_mid), math.sin(yaw_mid)
        self.x += (c * mvx - s * mvy) * dt
        self.y += (s * mvx + c * mvy) * dt
        self.yaw = wrap_angle(self.yaw + 0.5 * (wz0 + self.wz) * dt)
        # posture
        standing = self.powered and self.posture == "stand"
        dh, droll, dpitch, dyaw = self.offset_target if standing else (0.0, 0.0, 0.0, 0.0)
        self.height.step(STAND_HEIGHT + dh if standing else SIT_HEIGHT, dt)
        self.roll.step(droll, dt)
        self.pitch.step(dpitch, dt)
        self.yaw_offset.step(dyaw, dt)
        # gait
        speed = math.hypot(self.vx, self.vy) + 0.3 * abs(self.wz)
        amp_target = min(1.0, speed / 0.3) if speed > 0.01 else 0.0
        self.gait_amp += _clamp(amp_target - self.gait_amp, -4.0 * dt, 4.0 * dt)
        if self.gait_amp > 1e-3:
            self.gait_phase = (self.gait_phase + 2 * math.pi * GAIT_HZ * dt) % (2 * math.pi)
        # arm and gripper
        if self.arm:
            if self.arm_move is not None:
                self.arm_q = self.arm_move.at(t_ns)
            if self.gripper_move is not None:
                self.gripper_q = self.gripper_move.at(t_ns)[0]
        return self._snapshot(dt)

    def _leg_joints(self) -> tuple[list[float], list[float], tuple[bool, ...], tuple[Vec3, ...]]:
        """Leg joint positions and loads, foot contacts and foot positions in the body frame."""
        f = self.stand_fraction
        base = [a + (b - a) * f for a, b in zip(_SIT_LEG, _STAND_LEG)]
        pos, load, contact, feet = [], [], [], []
        for leg, phase_off, side in (("fl", 0.0, 1), ("fr", math.pi, -1), ("hl", math.pi, 1), ("hr", 0.0, -1)):
            ph = self.gait_phase + phase_off
            a = self.gait_amp
            swing = max(0.0, math.sin(ph))
            pos += [base[0] + side * 0.05 * a * math.sin(ph),
                    base[1] + 0.25 * a * math.sin(ph),
                    base[2] - 0.45 * a * swing]
            support = f * (1.0 - 0.8 * a * swing)
            load += [side * 2.0 * support, 8.0 * support, -30.0 * support]
            lifted = a * swing
            contact.append(lifted < 0.3)
            hx, hy = _HIP_XY[leg]
            feet.append((hx + 0.1 * a * math.cos(ph), hy + side * _LEG_Y, -self.height.value + 0.08 * lifted))
        return pos, load, tuple(contact), tuple(feet)

    def _snapshot(self, dt: float) -> Snapshot:
        roll, pitch, yoff = self.roll.value, self.pitch.value, self.yaw_offset.value
        body_yaw = self.yaw + yoff
        rot = quat_from_rpy(roll, pitch, body_yaw)
        odom_tform_body = Pose((self.x, self.y, self.height.value), rot)
        # Euler rates -> body angular velocity (ZYX convention)
        droll, dpitch, dyaw = self.roll.rate, self.pitch.rate, self.wz + self.yaw_offset.rate
        cr, sr, cp, sp = math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch)
        w_body = (droll - dyaw * sp, dpitch * cr + dyaw * cp * sr, -dpitch * sr + dyaw * cp * cr)
        w_odom = quat_rotate(rot, w_body)
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        v_odom = (c * self.vx - s * self.vy, s * self.vx + c * self.vy, self.height.rate)
        # acceleration of the body origin in odom: d/dt(R(yaw) v) = R(yaw)(v' + wz x v)
        afx = self.dvx - self.wz * self.vy
        afy = self.dvy + self.wz * self.vx
        a_odom = (c * afx - s * afy, s * afx + c * afy, self.height.accel)
        specific = (a_odom[0], a_odom[1], a_odom[2] + GRAVITY)
        imu = ImuTruth(quat_rotate((-rot[0], -rot[1], -rot[2], rot[3]), specific), w_body, rot)
        names = list(LEG_JOINT_NAMES)
        pos, load, contact, feet = self._leg_joints()
        body_tform_hand = None
        if self.arm:
            names += ARM_JOINT_NAMES
            pos += list(self.arm_q) + [self.gripper_q]
            load += [0.0, -12.0, 6.0, 0.0, 1.0, 0.0, 0.0]
            body_tform_hand = arm_forward_kinematics(self.arm_q)
        if self._prev_q is None or len(self._prev_q) != len(pos) or dt <= 0:
            vel = [0.0] * len(pos)
        else:
            vel = [(a - b) / dt for a, b in zip(pos, self._prev_q)]
        self._prev_q = tuple(pos)
        return Snapshot(
            local_ns=self.t_ns, robot_ns=0, joint_names=tuple(names), joint_position=tuple(pos),
            joint_velocity=tuple(vel), joint_load=tuple(load), odom_tform_body=odom_tform_body,
            vision_tform_body=VISION_TFORM_ODOM * odom_tform_body, velocity_linear_odom=v_odom,
            velocity_angular_odom=w_odom, imu=imu, powered=self.powered,
            standing=self.is_standing(), sitting=self.is_sitting(), walking=self.gait_amp > 1e-3,
            body_tform_hand=body_tform_hand,
            gripper_open_fraction=self.gripper_q / GRIPPER_OPEN_ANGLE if self.arm else 0.0,
            foot_contact=contact, foot_position_rt_body=feet)
