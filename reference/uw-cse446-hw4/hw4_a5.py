"""A5: sentiment classification of SST-2 reviews with a recurrent network over GloVe embeddings.

`forward` returns raw logits; the sigmoid lives in `loss` (BCEWithLogitsLoss) and `accuracy`
(a logit above 0 is a positive prediction).
"""

import torch
import torch.nn as nn


def collate_fn(batch):
    """Stack N (sequence, label) pairs into (N, max_sequence_length) ids, 0-padded at the end, and (N, 1) labels."""
    sentences, labels = zip(*batch)
    longest = max(len(s) for s in sentences)
    padded = torch.zeros((len(sentences), longest), dtype=torch.long)
    for row, sentence in enumerate(sentences):
        padded[row, :len(sentence)] = sentence
    return padded, torch.stack([torch.as_tensor(label).reshape(1) for label in labels])


class RNNBinaryClassificationModel(nn.Module):
    def __init__(self, embedding_matrix):
        super().__init__()

        vocab_size = embedding_matrix.shape[0]
        embedding_dim = embedding_matrix.shape[1]

        # Construct embedding layer and initialize with given embedding matrix. Do not modify this code.
        self.embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embedding_dim, padding_idx=0)
        self.embedding.weight.data = embedding_matrix

        self.rnn = nn.GRU(embedding_dim, 64, batch_first=True)
        self.classifier = nn.Linear(64, 1)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, inputs):
        """(N, L) token ids -> (N, 1) logits, from the last hidden state of the GRU."""
        _, hidden = self.rnn(self.embedding(inputs))
        return self.classifier(hidden[-1])

    def loss(self, logits, targets):
        """Binary cross-entropy between sigmoid(logits) and the (N, 1) targets, as a scalar."""
        return self.criterion(logits, targets.float())

    def accuracy(self, logits, targets):
        """Fraction of the N predictions (logit > 0 means positive) equal to the targets."""
        predictions = (logits > 0).long()
        return (predictions == targets.long()).float().mean()


# Training parameters
TRAINING_BATCH_SIZE = 32
NUM_EPOCHS = 8
LEARNING_RATE = 1e-3

# Batch size for validation, this only affects performance.
VAL_BATCH_SIZE = 128
