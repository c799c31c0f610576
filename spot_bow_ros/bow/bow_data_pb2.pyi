from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AngleTypeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_ANGLE_UNITS: _ClassVar[AngleTypeEnum]
    RADIANS: _ClassVar[AngleTypeEnum]
    DEGREES: _ClassVar[AngleTypeEnum]

class GripperModeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERCENTAGE: _ClassVar[GripperModeEnum]
    DIRECT: _ClassVar[GripperModeEnum]
    DISTANCE_IK: _ClassVar[GripperModeEnum]

class LocomotionModeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_LOCOMOTION_MODE: _ClassVar[LocomotionModeEnum]
    POSITION_MODE: _ClassVar[LocomotionModeEnum]
    VELOCITY_MODE: _ClassVar[LocomotionModeEnum]

class MotionGeneration(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IK: _ClassVar[MotionGeneration]
    CUSTOM: _ClassVar[MotionGeneration]
    IK_WITH_SELF_COLLISION_AVOIDANCE: _ClassVar[MotionGeneration]

class RelativeToEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BASE: _ClassVar[RelativeToEnum]
    HEAD: _ClassVar[RelativeToEnum]
    END_EFFECTOR: _ClassVar[RelativeToEnum]
    END_EFFECTOR_LEFT: _ClassVar[RelativeToEnum]
    END_EFFECTOR_RIGHT: _ClassVar[RelativeToEnum]
    TORSO: _ClassVar[RelativeToEnum]

class StereoDesignationEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NONE: _ClassVar[StereoDesignationEnum]
    LEFT: _ClassVar[StereoDesignationEnum]
    RIGHT: _ClassVar[StereoDesignationEnum]

class TorqueTypeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_TORQUE_UNITS: _ClassVar[TorqueTypeEnum]
    CURRENT: _ClassVar[TorqueTypeEnum]
    NEWTON_METRES: _ClassVar[TorqueTypeEnum]
UNKNOWN_ANGLE_UNITS: AngleTypeEnum
RADIANS: AngleTypeEnum
DEGREES: AngleTypeEnum
PERCENTAGE: GripperModeEnum
DIRECT: GripperModeEnum
DISTANCE_IK: GripperModeEnum
UNKNOWN_LOCOMOTION_MODE: LocomotionModeEnum
POSITION_MODE: LocomotionModeEnum
VELOCITY_MODE: LocomotionModeEnum
IK: MotionGeneration
CUSTOM: MotionGeneration
IK_WITH_SELF_COLLISION_AVOIDANCE: MotionGeneration
BASE: RelativeToEnum
HEAD: RelativeToEnum
END_EFFECTOR: RelativeToEnum
END_EFFECTOR_LEFT: RelativeToEnum
END_EFFECTOR_RIGHT: RelativeToEnum
TORSO: RelativeToEnum
NONE: StereoDesignationEnum
LEFT: StereoDesignationEnum
RIGHT: StereoDesignationEnum
UNKNOWN_TORQUE_UNITS: TorqueTypeEnum
CURRENT: TorqueTypeEnum
NEWTON_METRES: TorqueTypeEnum

class AudioSample(_message.Message):
    __slots__ = ("Source", "Data", "Channels", "SampleRate", "NumSamples", "Compression", "Transform", "Designation")
    class CompressionFormatEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RAW: _ClassVar[AudioSample.CompressionFormatEnum]
        SPEEX: _ClassVar[AudioSample.CompressionFormatEnum]
    RAW: AudioSample.CompressionFormatEnum
    SPEEX: AudioSample.CompressionFormatEnum
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    SAMPLERATE_FIELD_NUMBER: _ClassVar[int]
    NUMSAMPLES_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    DESIGNATION_FIELD_NUMBER: _ClassVar[int]
    Source: str
    Data: bytes
    Channels: int
    SampleRate: int
    NumSamples: int
    Compression: AudioSample.CompressionFormatEnum
    Transform: Transform
    Designation: StereoDesignationEnum
    def __init__(self, Source: _Optional[str] = ..., Data: _Optional[bytes] = ..., Channels: _Optional[int] = ..., SampleRate: _Optional[int] = ..., NumSamples: _Optional[int] = ..., Compression: _Optional[_Union[AudioSample.CompressionFormatEnum, str]] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ..., Designation: _Optional[_Union[StereoDesignationEnum, str]] = ...) -> None: ...

class AudioSamples(_message.Message):
    __slots__ = ("Samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    Samples: _containers.RepeatedCompositeFieldContainer[AudioSample]
    def __init__(self, Samples: _Optional[_Iterable[_Union[AudioSample, _Mapping]]] = ...) -> None: ...

class BlobSample(_message.Message):
    __slots__ = ("BytesArray", "IntArray", "FloatArray", "String", "Transform")
    BYTESARRAY_FIELD_NUMBER: _ClassVar[int]
    INTARRAY_FIELD_NUMBER: _ClassVar[int]
    FLOATARRAY_FIELD_NUMBER: _ClassVar[int]
    STRING_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    BytesArray: _containers.RepeatedScalarFieldContainer[bytes]
    IntArray: _containers.RepeatedScalarFieldContainer[int]
    FloatArray: _containers.RepeatedScalarFieldContainer[float]
    String: str
    Transform: Transform
    def __init__(self, BytesArray: _Optional[_Iterable[bytes]] = ..., IntArray: _Optional[_Iterable[int]] = ..., FloatArray: _Optional[_Iterable[float]] = ..., String: _Optional[str] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ...) -> None: ...

class EndEffector(_message.Message):
    __slots__ = ("Name", "Transform", "Enabled", "Angles", "EndEffectorTorque", "AngleUnits", "Gripper", "MovementDurationMs", "ControlMode")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ANGLES_FIELD_NUMBER: _ClassVar[int]
    ENDEFFECTORTORQUE_FIELD_NUMBER: _ClassVar[int]
    ANGLEUNITS_FIELD_NUMBER: _ClassVar[int]
    GRIPPER_FIELD_NUMBER: _ClassVar[int]
    MOVEMENTDURATIONMS_FIELD_NUMBER: _ClassVar[int]
    CONTROLMODE_FIELD_NUMBER: _ClassVar[int]
    Name: str
    Transform: Transform
    Enabled: bool
    Angles: _containers.RepeatedScalarFieldContainer[float]
    EndEffectorTorque: _containers.RepeatedScalarFieldContainer[float]
    AngleUnits: AngleTypeEnum
    Gripper: Gripper
    MovementDurationMs: float
    ControlMode: MotionGeneration
    def __init__(self, Name: _Optional[str] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ..., Enabled: _Optional[bool] = ..., Angles: _Optional[_Iterable[float]] = ..., EndEffectorTorque: _Optional[_Iterable[float]] = ..., AngleUnits: _Optional[_Union[AngleTypeEnum, str]] = ..., Gripper: _Optional[_Union[Gripper, _Mapping]] = ..., MovementDurationMs: _Optional[float] = ..., ControlMode: _Optional[_Union[MotionGeneration, str]] = ...) -> None: ...

class Float32Array(_message.Message):
    __slots__ = ("Data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    Data: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, Data: _Optional[_Iterable[float]] = ...) -> None: ...

class GPS(_message.Message):
    __slots__ = ("Latitude", "Longitude", "Elevation", "Time")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    ELEVATION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    Latitude: float
    Longitude: float
    Elevation: float
    Time: str
    def __init__(self, Latitude: _Optional[float] = ..., Longitude: _Optional[float] = ..., Elevation: _Optional[float] = ..., Time: _Optional[str] = ...) -> None: ...

class Gripper(_message.Message):
    __slots__ = ("Thumb", "Index", "Middle", "Ring", "Pinky", "FingerAdduction", "ThumbOpposition", "CustomAngles", "JointNames", "GripperMode")
    THUMB_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_FIELD_NUMBER: _ClassVar[int]
    RING_FIELD_NUMBER: _ClassVar[int]
    PINKY_FIELD_NUMBER: _ClassVar[int]
    FINGERADDUCTION_FIELD_NUMBER: _ClassVar[int]
    THUMBOPPOSITION_FIELD_NUMBER: _ClassVar[int]
    CUSTOMANGLES_FIELD_NUMBER: _ClassVar[int]
    JOINTNAMES_FIELD_NUMBER: _ClassVar[int]
    GRIPPERMODE_FIELD_NUMBER: _ClassVar[int]
    Thumb: float
    Index: float
    Middle: float
    Ring: float
    Pinky: float
    FingerAdduction: float
    ThumbOpposition: float
    CustomAngles: _containers.RepeatedScalarFieldContainer[float]
    JointNames: _containers.RepeatedScalarFieldContainer[str]
    GripperMode: GripperModeEnum
    def __init__(self, Thumb: _Optional[float] = ..., Index: _Optional[float] = ..., Middle: _Optional[float] = ..., Ring: _Optional[float] = ..., Pinky: _Optional[float] = ..., FingerAdduction: _Optional[float] = ..., ThumbOpposition: _Optional[float] = ..., CustomAngles: _Optional[_Iterable[float]] = ..., JointNames: _Optional[_Iterable[str]] = ..., GripperMode: _Optional[_Union[GripperModeEnum, str]] = ...) -> None: ...

class IMU(_message.Message):
    __slots__ = ("Gyro", "Acc", "Transform")
    GYRO_FIELD_NUMBER: _ClassVar[int]
    ACC_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    Gyro: Vector3
    Acc: Vector3
    Transform: Transform
    def __init__(self, Gyro: _Optional[_Union[Vector3, _Mapping]] = ..., Acc: _Optional[_Union[Vector3, _Mapping]] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ...) -> None: ...

class ImageSample(_message.Message):
    __slots__ = ("Source", "Data", "DataShape", "Compression", "ImageType", "Transform", "FrameNumber", "Designation", "HFOV", "VFOV", "NewDataFlag")
    class CompressionFormatEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        H264: _ClassVar[ImageSample.CompressionFormatEnum]
        VP8: _ClassVar[ImageSample.CompressionFormatEnum]
        VP9: _ClassVar[ImageSample.CompressionFormatEnum]
        JPG: _ClassVar[ImageSample.CompressionFormatEnum]
        RAW: _ClassVar[ImageSample.CompressionFormatEnum]
        H265: _ClassVar[ImageSample.CompressionFormatEnum]
    H264: ImageSample.CompressionFormatEnum
    VP8: ImageSample.CompressionFormatEnum
    VP9: ImageSample.CompressionFormatEnum
    JPG: ImageSample.CompressionFormatEnum
    RAW: ImageSample.CompressionFormatEnum
    H265: ImageSample.CompressionFormatEnum
    class ImageTypeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RGB: _ClassVar[ImageSample.ImageTypeEnum]
        DEPTH: _ClassVar[ImageSample.ImageTypeEnum]
        STEREO: _ClassVar[ImageSample.ImageTypeEnum]
        INFRARED: _ClassVar[ImageSample.ImageTypeEnum]
    RGB: ImageSample.ImageTypeEnum
    DEPTH: ImageSample.ImageTypeEnum
    STEREO: ImageSample.ImageTypeEnum
    INFRARED: ImageSample.ImageTypeEnum
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DATASHAPE_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    IMAGETYPE_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    FRAMENUMBER_FIELD_NUMBER: _ClassVar[int]
    DESIGNATION_FIELD_NUMBER: _ClassVar[int]
    HFOV_FIELD_NUMBER: _ClassVar[int]
    VFOV_FIELD_NUMBER: _ClassVar[int]
    NEWDATAFLAG_FIELD_NUMBER: _ClassVar[int]
    Source: str
    Data: bytes
    DataShape: _containers.RepeatedScalarFieldContainer[int]
    Compression: ImageSample.CompressionFormatEnum
    ImageType: ImageSample.ImageTypeEnum
    Transform: Transform
    FrameNumber: int
    Designation: StereoDesignationEnum
    HFOV: float
    VFOV: float
    NewDataFlag: bool
    def __init__(self, Source: _Optional[str] = ..., Data: _Optional[bytes] = ..., DataShape: _Optional[_Iterable[int]] = ..., Compression: _Optional[_Union[ImageSample.CompressionFormatEnum, str]] = ..., ImageType: _Optional[_Union[ImageSample.ImageTypeEnum, str]] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ..., FrameNumber: _Optional[int] = ..., Designation: _Optional[_Union[StereoDesignationEnum, str]] = ..., HFOV: _Optional[float] = ..., VFOV: _Optional[float] = ..., NewDataFlag: _Optional[bool] = ...) -> None: ...

class ImageSamples(_message.Message):
    __slots__ = ("Samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    Samples: _containers.RepeatedCompositeFieldContainer[ImageSample]
    def __init__(self, Samples: _Optional[_Iterable[_Union[ImageSample, _Mapping]]] = ...) -> None: ...

class Int64Array(_message.Message):
    __slots__ = ("Data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    Data: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, Data: _Optional[_Iterable[int]] = ...) -> None: ...

class Locomotion(_message.Message):
    __slots__ = ("Position", "Rotation", "LocomotionMode", "RotationUnits")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ROTATION_FIELD_NUMBER: _ClassVar[int]
    LOCOMOTIONMODE_FIELD_NUMBER: _ClassVar[int]
    ROTATIONUNITS_FIELD_NUMBER: _ClassVar[int]
    Position: Vector3
    Rotation: Vector3
    LocomotionMode: LocomotionModeEnum
    RotationUnits: AngleTypeEnum
    def __init__(self, Position: _Optional[_Union[Vector3, _Mapping]] = ..., Rotation: _Optional[_Union[Vector3, _Mapping]] = ..., LocomotionMode: _Optional[_Union[LocomotionModeEnum, str]] = ..., RotationUnits: _Optional[_Union[AngleTypeEnum, str]] = ...) -> None: ...

class MotorArray(_message.Message):
    __slots__ = ("Samples", "Tstamp")
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    TSTAMP_FIELD_NUMBER: _ClassVar[int]
    Samples: _containers.RepeatedCompositeFieldContainer[MotorSample]
    Tstamp: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, Samples: _Optional[_Iterable[_Union[MotorSample, _Mapping]]] = ..., Tstamp: _Optional[_Iterable[int]] = ...) -> None: ...

class MotorSample(_message.Message):
    __slots__ = ("Head", "Locomotion", "EndEffectors", "OperatingHeight", "RecordFlag", "PlaybackFlag", "PlaybackActionName")
    HEAD_FIELD_NUMBER: _ClassVar[int]
    LOCOMOTION_FIELD_NUMBER: _ClassVar[int]
    ENDEFFECTORS_FIELD_NUMBER: _ClassVar[int]
    OPERATINGHEIGHT_FIELD_NUMBER: _ClassVar[int]
    RECORDFLAG_FIELD_NUMBER: _ClassVar[int]
    PLAYBACKFLAG_FIELD_NUMBER: _ClassVar[int]
    PLAYBACKACTIONNAME_FIELD_NUMBER: _ClassVar[int]
    Head: Vector3
    Locomotion: Locomotion
    EndEffectors: _containers.RepeatedCompositeFieldContainer[EndEffector]
    OperatingHeight: float
    RecordFlag: bool
    PlaybackFlag: bool
    PlaybackActionName: str
    def __init__(self, Head: _Optional[_Union[Vector3, _Mapping]] = ..., Locomotion: _Optional[_Union[Locomotion, _Mapping]] = ..., EndEffectors: _Optional[_Iterable[_Union[EndEffector, _Mapping]]] = ..., OperatingHeight: _Optional[float] = ..., RecordFlag: _Optional[bool] = ..., PlaybackFlag: _Optional[bool] = ..., PlaybackActionName: _Optional[str] = ...) -> None: ...

class ProprioceptionSample(_message.Message):
    __slots__ = ("JointNames", "JointAngles", "AngleUnits", "JointVelocities", "JointTorques", "TorqueUnits", "SpatialOrientationEnabled", "SpatialUnits", "SpatialResolution", "SpatialOrientation", "Imu", "Gps")
    JOINTNAMES_FIELD_NUMBER: _ClassVar[int]
    JOINTANGLES_FIELD_NUMBER: _ClassVar[int]
    ANGLEUNITS_FIELD_NUMBER: _ClassVar[int]
    JOINTVELOCITIES_FIELD_NUMBER: _ClassVar[int]
    JOINTTORQUES_FIELD_NUMBER: _ClassVar[int]
    TORQUEUNITS_FIELD_NUMBER: _ClassVar[int]
    SPATIALORIENTATIONENABLED_FIELD_NUMBER: _ClassVar[int]
    SPATIALUNITS_FIELD_NUMBER: _ClassVar[int]
    SPATIALRESOLUTION_FIELD_NUMBER: _ClassVar[int]
    SPATIALORIENTATION_FIELD_NUMBER: _ClassVar[int]
    IMU_FIELD_NUMBER: _ClassVar[int]
    GPS_FIELD_NUMBER: _ClassVar[int]
    JointNames: _containers.RepeatedScalarFieldContainer[str]
    JointAngles: _containers.RepeatedScalarFieldContainer[float]
    AngleUnits: AngleTypeEnum
    JointVelocities: _containers.RepeatedScalarFieldContainer[float]
    JointTorques: _containers.RepeatedScalarFieldContainer[float]
    TorqueUnits: TorqueTypeEnum
    SpatialOrientationEnabled: bool
    SpatialUnits: AngleTypeEnum
    SpatialResolution: float
    SpatialOrientation: _containers.RepeatedScalarFieldContainer[float]
    Imu: _containers.RepeatedCompositeFieldContainer[IMU]
    Gps: GPS
    def __init__(self, JointNames: _Optional[_Iterable[str]] = ..., JointAngles: _Optional[_Iterable[float]] = ..., AngleUnits: _Optional[_Union[AngleTypeEnum, str]] = ..., JointVelocities: _Optional[_Iterable[float]] = ..., JointTorques: _Optional[_Iterable[float]] = ..., TorqueUnits: _Optional[_Union[TorqueTypeEnum, str]] = ..., SpatialOrientationEnabled: _Optional[bool] = ..., SpatialUnits: _Optional[_Union[AngleTypeEnum, str]] = ..., SpatialResolution: _Optional[float] = ..., SpatialOrientation: _Optional[_Iterable[float]] = ..., Imu: _Optional[_Iterable[_Union[IMU, _Mapping]]] = ..., Gps: _Optional[_Union[GPS, _Mapping]] = ...) -> None: ...

class Quaternion(_message.Message):
    __slots__ = ("QuatX", "QuatY", "QuatZ", "QuatW")
    QUATX_FIELD_NUMBER: _ClassVar[int]
    QUATY_FIELD_NUMBER: _ClassVar[int]
    QUATZ_FIELD_NUMBER: _ClassVar[int]
    QUATW_FIELD_NUMBER: _ClassVar[int]
    QuatX: float
    QuatY: float
    QuatZ: float
    QuatW: float
    def __init__(self, QuatX: _Optional[float] = ..., QuatY: _Optional[float] = ..., QuatZ: _Optional[float] = ..., QuatW: _Optional[float] = ...) -> None: ...

class StringSample(_message.Message):
    __slots__ = ("Data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    Data: str
    def __init__(self, Data: _Optional[str] = ...) -> None: ...

class TactileSample(_message.Message):
    __slots__ = ("Source", "LocationTag", "Data", "DataShape", "TactileType", "Compression", "ClassifiedTexture", "FloatData", "Transform", "NewDataFlag")
    class CompressionFormatEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RAW: _ClassVar[TactileSample.CompressionFormatEnum]
    RAW: TactileSample.CompressionFormatEnum
    class TactileTypeEnum(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNDEFINED: _ClassVar[TactileSample.TactileTypeEnum]
        PRESSURE: _ClassVar[TactileSample.TactileTypeEnum]
        VIBRATION: _ClassVar[TactileSample.TactileTypeEnum]
        TEXTURE: _ClassVar[TactileSample.TactileTypeEnum]
        FORCE_FEEDBACK: _ClassVar[TactileSample.TactileTypeEnum]
        TRIAXIAL: _ClassVar[TactileSample.TactileTypeEnum]
    UNDEFINED: TactileSample.TactileTypeEnum
    PRESSURE: TactileSample.TactileTypeEnum
    VIBRATION: TactileSample.TactileTypeEnum
    TEXTURE: TactileSample.TactileTypeEnum
    FORCE_FEEDBACK: TactileSample.TactileTypeEnum
    TRIAXIAL: TactileSample.TactileTypeEnum
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LOCATIONTAG_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DATASHAPE_FIELD_NUMBER: _ClassVar[int]
    TACTILETYPE_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    CLASSIFIEDTEXTURE_FIELD_NUMBER: _ClassVar[int]
    FLOATDATA_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    NEWDATAFLAG_FIELD_NUMBER: _ClassVar[int]
    Source: str
    LocationTag: RelativeToEnum
    Data: bytes
    DataShape: _containers.RepeatedScalarFieldContainer[int]
    TactileType: TactileSample.TactileTypeEnum
    Compression: TactileSample.CompressionFormatEnum
    ClassifiedTexture: str
    FloatData: _containers.RepeatedScalarFieldContainer[float]
    Transform: Transform
    NewDataFlag: bool
    def __init__(self, Source: _Optional[str] = ..., LocationTag: _Optional[_Union[RelativeToEnum, str]] = ..., Data: _Optional[bytes] = ..., DataShape: _Optional[_Iterable[int]] = ..., TactileType: _Optional[_Union[TactileSample.TactileTypeEnum, str]] = ..., Compression: _Optional[_Union[TactileSample.CompressionFormatEnum, str]] = ..., ClassifiedTexture: _Optional[str] = ..., FloatData: _Optional[_Iterable[float]] = ..., Transform: _Optional[_Union[Transform, _Mapping]] = ..., NewDataFlag: _Optional[bool] = ...) -> None: ...

class TactileSamples(_message.Message):
    __slots__ = ("Samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    Samples: _containers.RepeatedCompositeFieldContainer[TactileSample]
    def __init__(self, Samples: _Optional[_Iterable[_Union[TactileSample, _Mapping]]] = ...) -> None: ...

class TimeSync(_message.Message):
    __slots__ = ("TOrigin_0", "TReceiver", "TOrigin_1", "ReturnTrip")
    TORIGIN_0_FIELD_NUMBER: _ClassVar[int]
    TRECEIVER_FIELD_NUMBER: _ClassVar[int]
    TORIGIN_1_FIELD_NUMBER: _ClassVar[int]
    RETURNTRIP_FIELD_NUMBER: _ClassVar[int]
    TOrigin_0: int
    TReceiver: int
    TOrigin_1: int
    ReturnTrip: bool
    def __init__(self, TOrigin_0: _Optional[int] = ..., TReceiver: _Optional[int] = ..., TOrigin_1: _Optional[int] = ..., ReturnTrip: _Optional[bool] = ...) -> None: ...

class Transform(_message.Message):
    __slots__ = ("Position", "Quaternion", "EulerAngles", "AngleUnits", "LocationTag", "Name")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    QUATERNION_FIELD_NUMBER: _ClassVar[int]
    EULERANGLES_FIELD_NUMBER: _ClassVar[int]
    ANGLEUNITS_FIELD_NUMBER: _ClassVar[int]
    LOCATIONTAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    Position: Vector3
    Quaternion: Quaternion
    EulerAngles: Vector3
    AngleUnits: AngleTypeEnum
    LocationTag: RelativeToEnum
    Name: str
    def __init__(self, Position: _Optional[_Union[Vector3, _Mapping]] = ..., Quaternion: _Optional[_Union[Quaternion, _Mapping]] = ..., EulerAngles: _Optional[_Union[Vector3, _Mapping]] = ..., AngleUnits: _Optional[_Union[AngleTypeEnum, str]] = ..., LocationTag: _Optional[_Union[RelativeToEnum, str]] = ..., Name: _Optional[str] = ...) -> None: ...

class Vector3(_message.Message):
    __slots__ = ("X", "Y", "Z")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    X: float
    Y: float
    Z: float
    def __init__(self, X: _Optional[float] = ..., Y: _Optional[float] = ..., Z: _Optional[float] = ...) -> None: ...
