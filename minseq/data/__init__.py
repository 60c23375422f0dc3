"""Behaviour-sequence data: the event table, a synthetic generator, loaders, preprocessing,
splits, batching and negative sampling. Host-side code (NumPy); batches move to the active
backend."""

from .batching import Batches, next_event_pairs
from .events import BEHAVIOURS, PAD, EventTable, from_columns
from .loaders import FORMATS, DataFormatError, load
from .preprocess import (LabelEncoder, MinMaxScaler, fill_missing, normalize_timestamps,
                         pad_sequences, sliding_windows)
from .sampling import sample_negatives
from .splits import (k_core, leave_one_out, split_by_time, split_by_user, user_folds,
                     without_users)
from .synthetic import generate

__all__ = ["BEHAVIOURS", "PAD", "EventTable", "from_columns", "generate", "FORMATS",
           "DataFormatError", "load", "fill_missing", "MinMaxScaler", "LabelEncoder",
           "normalize_timestamps", "pad_sequences", "sliding_windows", "split_by_user",
           "split_by_time", "leave_one_out", "k_core", "user_folds", "without_users", "Batches", "next_event_pairs",
           "sample_negatives"]
