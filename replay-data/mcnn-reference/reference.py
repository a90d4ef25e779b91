#!/usr/bin/env python3
"""
Reference counts for the MCNN crowd-counting model (models/mcnn_shanghaitech_a.onnx), computed
outside Panoptes so that test/heads/crowd-density-reference.test.ts can pin the node against them.

What is reproduced is the reference implementation's test-time path, svishwa/crowdcount-mcnn
src/data_loader.py (read at commit 9d05d30c09b8121e61a0bfbdb2dc494ed433bbe9):

    img = cv2.imread(path, 0)                 # libjpeg decodes straight to grey (its Y plane)
    img = img.astype(np.float32, copy=False)  # raw 0..255: no mean, no std, no /255
    ht_1 = (ht/4)*4; wd_1 = (wd/4)*4          # Python 2 integer division
    img = cv2.resize(img, (wd_1, ht_1))       # identity when both are multiples of 4
    img = img.reshape((1, 1, ht_1, wd_1))
    count = sum of the density map            # src/crowd_count.py / evaluate_model.py: et_count = np.sum(density_map)

The network is run with OpenCV's own DNN module (cv2.dnn.readNetFromONNX), an inference engine
independent of onnxruntime, which Panoptes uses. Only inputs whose sides are already multiples of 4
are used, so no resampler is involved on either side: the only preprocessing difference left is
the grey conversion (libjpeg's Y plane here; luma 0.299/0.587/0.114 of sharp's RGB in Panoptes).
To show how much that difference is worth, each input is also counted with
cv2.cvtColor(cv2.imread(path), COLOR_BGR2GRAY) (the same weights as Panoptes, on OpenCV's RGB).

Run (Debian's python3-opencv, numpy), from the repository root:

    PANOPTES_DATA=/work/shared /usr/bin/python3 replay-data/mcnn-reference/reference.py

It writes replay-data/mcnn-reference/reference.json next to itself.
"""
import datetime
import hashlib
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('PANOPTES_DATA', os.path.join(HERE, '..', '..', '..', 'shared'))
IMAGE_REL = 'replay/sequences/MOT17-02-FRCNN/img1/000001.jpg'
MODELS = {'mcnn-shanghaitech-a': 'models/mcnn_shanghaitech_a.onnx', 'mcnn-shanghaitech-b': 'models/mcnn_shanghaitech_b.onnx'}
# Inputs: the whole 1920x1080 frame, and the crowd-density node's band [0, 0.35, 1, 0.75] at
# native size (node: rows floor(0.35*1080)=378 to ceil(0.75*1080)=810, all 1920 columns).
INPUTS = {
    'frame-1920x1080': None,
    'band-0-0.35-1-0.75-1920x432': (0, 378, 1920, 810),
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def prepare(grey, area):
    """data_loader.py's steps on an already-decoded grey image, after cropping `area` (x1, y1, x2, y2)."""
    if area is not None:
        x1, y1, x2, y2 = area
        grey = grey[y1:y2, x1:x2]
    img = grey.astype(np.float32, copy=False)
    ht, wd = img.shape
    ht_1, wd_1 = (ht // 4) * 4, (wd // 4) * 4
    img = cv2.resize(img, (wd_1, ht_1))
    return img.reshape((1, 1, ht_1, wd_1))


def count(net, blob):
    net.setInput(blob)
    density = net.forward()
    return density.shape, float(np.sum(density.astype(np.float64)))


def main():
    image_path = os.path.join(DATA, IMAGE_REL)
    grey_y = cv2.imread(image_path, 0)
    grey_luma = cv2.cvtColor(cv2.imread(image_path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    if grey_y is None:
        sys.exit(f'cannot read {image_path}')
    results = {}
    model_hashes = {}
    for model_id, rel in MODELS.items():
        model_path = os.path.join(DATA, rel)
        model_hashes[model_id] = {'file': rel, 'sha256': sha256(model_path)}
        net = cv2.dnn.readNetFromONNX(model_path)
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        for name, area in INPUTS.items():
            blob = prepare(grey_y, area)
            shape, total = count(net, blob)
            _, luma_total = count(net, prepare(grey_luma, area))
            results.setdefault(name, {'area': list(area) if area else None, 'input': list(blob.shape)})
            results[name][model_id] = {
                'count': round(total, 4),
                'densityShape': list(shape),
                'countWithCvtColorGrey': round(luma_total, 4),
            }
            print(f'{model_id} {name}: input {list(blob.shape)} density {list(shape)} count {total:.4f} (cvtColor grey {luma_total:.4f})')
    out = {
        'what': "MCNN counts from the reference implementation's test-time preprocessing (svishwa/crowdcount-mcnn "
        'src/data_loader.py @ 9d05d30: cv2.imread(path, 0) -> float32 raw 0..255 -> resize to multiples of 4 '
        '(identity here) -> [1,1,H,W]; count = np.sum(density)), run with OpenCV DNN (not onnxruntime).',
        'image': {'file': IMAGE_REL, 'sha256': sha256(image_path), 'size': [int(grey_y.shape[1]), int(grey_y.shape[0])]},
        'models': model_hashes,
        'inputs': results,
        'notes': 'count: grey from cv2.imread(path, 0) (libjpeg Y plane), as data_loader.py. countWithCvtColorGrey: '
        'cv2.cvtColor(BGR2GRAY) of the colour decode (0.299/0.587/0.114, the weights Panoptes uses), to show how much '
        'the grey conversion alone moves the count. area is [x1, y1, x2, y2] in frame pixels, cropped before the steps.',
        'obtainedWith': {
            'command': 'PANOPTES_DATA=/work/shared /usr/bin/python3 replay-data/mcnn-reference/reference.py',
            'python': sys.version.split()[0],
            'cv2': cv2.__version__,
            'numpy': np.__version__,
            'runtime': 'cv2.dnn.readNetFromONNX, DNN_BACKEND_OPENCV, DNN_TARGET_CPU (Debian python3-opencv)',
            'date': datetime.date.today().isoformat(),
        },
    }
    with open(os.path.join(HERE, 'reference.json'), 'w') as f:
        json.dump(out, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
