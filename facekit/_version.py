__version__ = "0.1.0"

#: The distribution name on the package index (``pip install facekit-detect``); the import
#: name and the command stay ``facekit``. ("facekit" on the index is an unrelated project.)
DISTRIBUTION = "facekit-detect"
