"""facekit: one face-detection call, any provider, the same typed answer.

>>> from facekit import FaceClient
>>> result = FaceClient("local").detect("photo.jpg", attributes=["age", "emotion"], landmarks=True)
>>> for face in result.faces:
...     print(face.index, face.box.xywh, face.attributes.age)

Importing facekit loads no provider SDK, no onnxruntime and no numpy: each backend imports
what it needs on first use.
"""

from typing import TYPE_CHECKING, Any

from facekit._attributes import (
    Accessory,
    AgeRange,
    BooleanAttribute,
    EmotionScores,
    EyeDirection,
    FaceAttributes,
    FacialHair,
    Gender,
    Hair,
    HairColor,
    HeadPose,
    ImageQuality,
    LevelValue,
    Makeup,
    Mask,
    Occlusion,
    Smile,
)
from facekit._batch import BatchItem
from facekit._batch_frame import to_dataframe, write_parquet
from facekit._client import FaceClient, FacekitWarning
from facekit._compare import Comparison, FaceGroup, PairAgreement, compare
from facekit._errors import (
    AuthenticationError,
    ConfigurationError,
    DeadlineExceededError,
    FacekitError,
    ImageSizeUnknownError,
    InvalidImageError,
    InvalidRequestError,
    MissingDependencyError,
    ModelNotAvailableError,
    NetworkError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RecordedError,
    RequestTimeoutError,
    ServiceUnavailableError,
    TransportError,
    UnsupportedFeatureError,
)
from facekit._face_index import FaceIndex, IndexMatch
from facekit._geometry import BoundingBox, Point, RatioBox
from facekit._identity import SimilarFaces, SimilarMatch, Verification
from facekit._image import InputSpec, Payload, S3Location, SourceImage, open_image
from facekit._models import DetectionResult, DetectRequest, Face, FaceEmbedding, ImageInfo
from facekit._ratelimit import RateLimiter
from facekit._read_results import read_results
from facekit._registry import available_backends, register_backend
from facekit._retry import RetryPolicy, should_retry
from facekit._version import __version__
from facekit._vocabulary import ATTRIBUTES, EMOTIONS, LANDMARKS

__all__ = [
    "ATTRIBUTES",
    "AsyncFaceClient",
    "EMOTIONS",
    "LANDMARKS",
    "Accessory",
    "AgeRange",
    "AuthenticationError",
    "BatchItem",
    "BooleanAttribute",
    "BoundingBox",
    "Comparison",
    "ConfigurationError",
    "DeadlineExceededError",
    "DetectRequest",
    "DetectionResult",
    "EmotionScores",
    "EyeDirection",
    "Face",
    "FaceAttributes",
    "FaceClient",
    "FaceEmbedding",
    "FaceGroup",
    "FaceIndex",
    "FacekitError",
    "FacekitWarning",
    "FacialHair",
    "Gender",
    "Hair",
    "HairColor",
    "HeadPose",
    "ImageInfo",
    "ImageQuality",
    "ImageSizeUnknownError",
    "IndexMatch",
    "InputSpec",
    "InvalidImageError",
    "InvalidRequestError",
    "LevelValue",
    "Makeup",
    "Mask",
    "MissingDependencyError",
    "ModelNotAvailableError",
    "NetworkError",
    "Occlusion",
    "PairAgreement",
    "Payload",
    "Point",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimiter",
    "RatioBox",
    "RecordedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "S3Location",
    "ServiceUnavailableError",
    "SimilarFaces",
    "SimilarMatch",
    "Smile",
    "SourceImage",
    "TransportError",
    "UnsupportedFeatureError",
    "Verification",
    "__version__",
    "available_backends",
    "compare",
    "open_image",
    "read_results",
    "register_backend",
    "should_retry",
    "to_dataframe",
    "write_parquet",
]

if TYPE_CHECKING:
    from facekit._async_client import AsyncFaceClient


def __getattr__(name: str) -> Any:
    """``facekit.AsyncFaceClient`` is imported on first use (it pulls in asyncio)."""
    if name == "AsyncFaceClient":
        from facekit._async_client import AsyncFaceClient

        return AsyncFaceClient
    raise AttributeError(f"module 'facekit' has no attribute {name!r}")
