"""cv_bridge (Jazzy's, Python side on Debian's OpenCV 4 and numpy): for every `argv[1]/*.npz`
message dump, `imgmsg_to_cv2(msg)` (passthrough) saved as `argv[2]/<name>.npz` (array); for
every array in `argv[3]` (an npz of name -> (array, encoding)), `cv2_to_imgmsg(array, encoding)`'s
fields saved as `argv[2]/to_msg_<name>.npz`. Prints `CV2=<version>` and `CONVERTED=<count>`."""

import sys
from pathlib import Path

import cv2
import numpy as np
from cv_bridge import CvBridge
from sensor_msgs.msg import Image


def main() -> None:
    dumps, out, known = Path(sys.argv[1]), Path(sys.argv[2]), np.load(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    bridge, count = CvBridge(), 0
    for path in sorted(dumps.glob("*.npz")):
        d = np.load(path)
        msg = Image(height=int(d["height"]), width=int(d["width"]), encoding=str(d["encoding"]),
                    is_bigendian=int(d["is_bigendian"]), step=int(d["step"]), data=d["data"].tobytes())
        np.savez(out / path.name, array=bridge.imgmsg_to_cv2(msg))
        count += 1
    for name in [k for k in known.files if not k.endswith("_encoding")]:
        msg = bridge.cv2_to_imgmsg(known[name], encoding=str(known[f"{name}_encoding"]))
        np.savez(out / f"to_msg_{name}.npz", encoding=msg.encoding, height=msg.height, width=msg.width,
                 step=msg.step, is_bigendian=msg.is_bigendian, data=np.frombuffer(bytes(msg.data), np.uint8))
        count += 1
    print(f"CV2={cv2.__version__}")
    print(f"CONVERTED={count}")


if __name__ == "__main__":
    main()
