"""The data model: table specs, validation and the immutable TrialDataset."""

from .dataset import TrialDataset, load_bundled, read_model_folder, write_dataset
from .validation import DatasetValidationError, Finding, ValidationReport

__all__ = [
    "TrialDataset", "load_bundled", "read_model_folder", "write_dataset",
    "DatasetValidationError", "Finding", "ValidationReport",
]
