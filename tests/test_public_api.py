"""The public names are a promise: adding or removing one is a deliberate change to this list."""

from __future__ import annotations

import facekit

EXPECTED = [
    "ATTRIBUTES",
    "Accessory",
    "AgeRange",
    "AsyncFaceClient",
    "AuthenticationError",
    "BatchItem",
    "BooleanAttribute",
    "BoundingBox",
    "Comparison",
    "ConfigurationError",
    "DeadlineExceededError",
    "DetectRequest",
    "DetectionResult",
    "EMOTIONS",
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
    "LANDMARKS",
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


def test_public_names_are_pinned() -> None:
    assert sorted(facekit.__all__) == EXPECTED
    for name in facekit.__all__:
        assert hasattr(facekit, name), name


def test_error_tree() -> None:
    assert issubclass(facekit.RateLimitError, facekit.ProviderError)
    assert issubclass(facekit.UnsupportedFeatureError, facekit.InvalidRequestError)
    assert issubclass(facekit.InvalidImageError, facekit.InvalidRequestError)
    assert issubclass(facekit.RequestTimeoutError, TimeoutError)
    assert issubclass(facekit.MissingDependencyError, ImportError)
    for name in facekit.__all__:
        value = getattr(facekit, name)
        if isinstance(value, type) and issubclass(value, Exception) and value is not facekit.FacekitWarning:
            assert issubclass(value, facekit.FacekitError), name
    error = facekit.ProviderError("boom", provider="azure-rest", status=500, code="X", request_id="r-1")
    assert str(error) == "boom (provider=azure-rest, status=500, code=X, request_id=r-1)"
