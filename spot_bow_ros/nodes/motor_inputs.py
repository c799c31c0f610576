"""The motor bridge's sample path: MotorSample / cmd_vel payloads -> validated, converted,
limited `MotorCommand`s -> `MotionSupervisor.admit_and_send` (which decides whether they reach
Spot). Also recording and playback of MotorArrays (`motion_recording`).

Every sample is validated whole (NaN/inf/unknown enums rejected: one log line, throttled, nothing
sent), clamped to the supervisor's limits (one warning per clamping episode per part); parts
Spot cannot use are warned about once per kind for the node's lifetime.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import numpy as np

from ..bow import bow_data_pb2 as bow
from ..convert import motor
from ..convert.motor import Clamp, InvalidMotorSample, MotorCommand, MotorConfig
from ..spot.supervisor import MotionSupervisor
from ..spot.supervisor_verbs import Outcome
from .motion_recording import MotionPlayer, MotionRecorder, RecordingError, load_recording


class _Throttle:
    """Token bucket for log lines: bursts of `burst` lines, then `rate` per second; the next
    line logged says how many were suppressed (a flood of bad input must not flood the log)."""

    def __init__(self, rate: float = 5.0, burst: int = 20):
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.last = time.monotonic()
        self.suppressed = 0

    def ready(self) -> tuple[bool, int]:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            n, self.suppressed = self.suppressed, 0
            return True, n
        self.suppressed += 1
        return False, 0


class MotorInputs:
    """Sample path of one motor bridge (its lock serialises samples and playback)."""

    def __init__(self, supervisor: MotionSupervisor, config: MotorConfig, logger: Any,
                 recordings_dir: str, default_recording_name: str):
        self.sup = supervisor
        self.config = config
        self.log = logger
        self.counts = supervisor.counts
        self._lock = threading.RLock()
        self._clamping: set[str] = set()
        self._noted: set[str] = set()
        self._reject_throttle = _Throttle()
        self.v1: Any = None   # nodes.bow_v1.MotorV1Handler with bow_messages: sdk_v1
        self.recorder = MotionRecorder(recordings_dir, default_recording_name)
        self.player = MotionPlayer(self._submit_playback, self._playback_done)
        supervisor.on_motion_stopped = lambda: self.player.cancel(wait=False)

    @property
    def limits(self) -> motor.MotionLimits:
        return self.sup.limits

    @property
    def body(self) -> motor.BodyPose:
        return self.sup.body

    # -- topic callbacks ----------------------------------------------------------------------
    def on_json(self, msg: Any) -> Outcome:
        return self.handle_payload(str(msg.data), "motor_command")

    def on_binary(self, msg: Any) -> Outcome:
        data = msg.data
        payload = data if isinstance(data, (bytes, bytearray)) else np.asarray(data, dtype=np.uint8).tobytes()
        return self.handle_payload(bytes(payload), "motor_command/binary")

    def on_twist(self, msg: Any) -> Outcome:
        with self._lock:
            self.counts["received"] += 1
            try:
                lin, ang = msg.linear, msg.angular
                vel = motor.twist_to_velocity((float(lin.x), float(lin.y), float(lin.z)),
                                              (float(ang.x), float(ang.y), float(ang.z)))
                cmd, clamps = motor.apply_limits(MotorCommand(locomotion=vel), self.limits)
            except InvalidMotorSample as exc:
                return self._reject("cmd_vel", str(exc))
            self._cancel_playback_for("cmd_vel")
            return self._execute(cmd, clamps, "cmd_vel")

    def handle_payload(self, payload: str | bytes, source: str) -> Outcome:
        """Parse, validate, convert, limit, record and execute one MotorSample payload."""
        if self.v1 is not None:  # bow_messages: sdk_v1
            return self.v1.handle_payload(payload, source)
        t_ns = time.time_ns()
        with self._lock:
            self.counts["received"] += 1
            try:
                sample = motor.parse_motor_sample(payload)
                conv = motor.convert_motor_sample(sample, self.config, self.limits)
            except InvalidMotorSample as exc:
                return self._reject(source, str(exc))
            cmd = conv.command
            self._record(sample, cmd, t_ns)
            if cmd.playback:
                return self._start_playback(cmd.action_name)
            if cmd.moves:
                self._cancel_playback_for(source)
            return self._run(cmd, list(conv.clamps), source)

    def _submit_playback(self, sample: bow.MotorSample) -> None:
        with self._lock:
            if not self.player.is_current():
                return  # cancelled or superseded while waiting for the lock
            try:
                conv = motor.convert_motor_sample(sample, self.config, self.limits)
            except InvalidMotorSample as exc:  # limits changed since the recording, say
                self._reject(f"playback {self.player.name}", str(exc))
                return
            self._run(conv.command, list(conv.clamps), f"playback {self.player.name}")

    def _run(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> Outcome:
        for note in cmd.notes:
            self._warn_note_once(source, note)
        if not cmd.moves:
            return Outcome("nothing", "sample asks for no change")
        return self._execute(cmd, clamps, source)

    def _execute(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> Outcome:
        self._warn_clamps(cmd, clamps, source)
        return self.sup.admit_and_send(cmd, source)

    def _reject(self, source: str, reason: str) -> Outcome:
        self.counts["rejected"] += 1
        self.sup.last_reason = f"rejected: {reason}"
        ok, suppressed = self._reject_throttle.ready()
        if ok:
            more = f" ({suppressed} more rejected inputs not logged)" if suppressed else ""
            self.log.error(f"{source}: rejected, nothing sent: {reason}{more}")
        return Outcome("rejected", reason)

    def _warn_note_once(self, source: str, note: str) -> None:
        """Warn about an ignored part of a sample once per kind (numbers do not make a new kind)."""
        kind = re.sub(r"[-+]?\d[\d.eE+-]*", "#", note)
        if kind not in self._noted:
            self._noted.add(kind)
            self.log.warning(f"{source}: {note} (warned once)")

    def _warn_clamps(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> None:
        parts_present = {p for p, v in (("locomotion", cmd.locomotion), ("body", cmd.body),
                                        ("arm", cmd.arm), ("gripper", cmd.gripper)) if v is not None}
        clamped_parts = {c.part for c in clamps}
        if clamps:
            self.counts["clamped"] += 1
        new = clamped_parts - self._clamping
        if new:
            shown = ", ".join(str(c) for c in clamps if c.part in new)
            self.log.warning(f"{source}: clamped to limits: {shown} (warned once until the "
                             f"{'/'.join(sorted(new))} commands are within limits again)")
        self._clamping = (self._clamping - parts_present) | clamped_parts

    def limits_changed(self) -> None:
        self._clamping.clear()

    # -- recording / playback -----------------------------------------------------------------
    def _record(self, sample: bow.MotorSample, cmd: MotorCommand, t_ns: int) -> None:
        if cmd.playback:
            return
        try:
            was = self.recorder.recording
            saved = self.recorder.feed(sample, cmd.record, cmd.action_name, t_ns)
            if not was and self.recorder.recording:
                self.log.info(f"recording '{self.recorder.name}' started")
        except RecordingError as exc:
            self.log.error(f"recording failed: {exc}")
            return
        self._saved(saved)

    def save_recording(self) -> None:
        try:
            saved = self.recorder.finish()
        except RecordingError as exc:
            self.log.error(f"recording failed: {exc}")
            return
        self._saved(saved)

    def _saved(self, saved: Any) -> None:
        if saved is not None:
            self.counts["recordings_saved"] += 1
            self.log.info(f"recording saved: {saved}")

    def _start_playback(self, name: str) -> Outcome:
        try:
            array = load_recording(self.recorder.directory, name)
        except RecordingError as exc:
            return self._reject("playback", str(exc))
        if not len(array.Samples):
            return self._reject("playback", f"recording {name!r} is empty")
        self.counts["playbacks"] += 1
        span = (array.Tstamp[-1] - array.Tstamp[0]) / 1000.0
        self.log.info(f"playing recording '{name}': {len(array.Samples)} samples over {span:.2f} s")
        self.player.play(array, name)
        return Outcome("playback", name)

    def _playback_done(self, name: str, sent: int, cancelled: bool) -> None:
        self.log.info(f"playback '{name}' {'cancelled' if cancelled else 'finished'} after {sent} samples")

    def _cancel_playback_for(self, source: str) -> None:
        if self.player.playing and self.player.cancel(wait=False):
            self.log.warning(f"playback '{self.player.name}' cancelled: live command on {source}")
