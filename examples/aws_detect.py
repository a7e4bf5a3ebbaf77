"""Detect faces with AWS Rekognition and print them in pixels of your image.

Usage:
    AWS_PROFILE=me FACEKIT_AWS_REGION=eu-west-1 python examples/aws_detect.py photo.jpg
    python examples/aws_detect.py s3://my-bucket/photo.jpg --all

Credentials come from boto3's usual chain (environment, ~/.aws, SSO, IAM role).
"""

from __future__ import annotations

import argparse

from facekit import FaceClient, FacekitError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", help="path, URL or s3://bucket/key[?versionId=...]")
    parser.add_argument("--all", action="store_true", help="ask for every attribute (Attributes=['ALL'])")
    parser.add_argument("--region", default=None, help="AWS region (default: FACEKIT_AWS_REGION, AWS_REGION, ...)")
    args = parser.parse_args()
    attributes = "all" if args.all else ["age", "emotion"]
    try:
        with FaceClient("aws", region=args.region) as client:
            result = client.detect(args.image, attributes=attributes, landmarks=True)
    except FacekitError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{len(result.faces)} face(s) in a {result.image.width}x{result.image.height} image")
    for face in result.faces:
        left, top, width, height = face.box.xywh
        emotion = face.attributes.emotion.dominant if face.attributes.emotion else None
        age = face.attributes.age_range
        print(f"  #{face.index}: box=({left:.0f}, {top:.0f}, {width:.0f}, {height:.0f}) "
              f"confidence={face.confidence} age={age.low if age else None}-{age.high if age else None} "
              f"emotion={emotion}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
