"""A5: sentiment classification of SST-2 reviews with a recurrent network over GloVe embeddings.

Keep the names and signatures: the autograder calls them. util.py and train.py are provided;
run `python train.py` to train and validate your model.
"""

import torch
import torch.nn as nn


def collate_fn(batch):
    """
    Create a batch of data given a list of N sequences and labels. Sequences are stacked into a single tensor
    of shape (N, max_sequence_length), where max_sequence_length is the maximum length of any sequence in the
    batch. Sequences shorter than this length should be filled up with 0's. Also returns a tensor of shape (N, 1)
    containing the label of each sequence.

    :param batch: A list of size N, where each element is a tuple containing a sequence LongTensor and a single item
        tensor containing the true label of the sequence.
    :return: A tuple containing two tensors. The first tensor has shape (N, max_sequence_length) and contains all
        sequences. Sequences shorter than max_sequence_length are padded with 0s at the end. The second tensor
        has shape (N, 1) and contains all labels.
    """
    sentences, labels = zip(*batch)
    # TODO (a)
    raise NotImplementedError("collate_fn")


class RNNBinaryClassificationModel(nn.Module):
    def __init__(self, embedding_matrix):
        super().__init__()

        vocab_size = embedding_matrix.shape[0]
        embedding_dim = embedding_matrix.shape[1]

        # Construct embedding layer and initialize with given embedding matrix. Do not modify this code.
        self.embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embedding_dim, padding_idx=0)
        self.embedding.weight.data = embedding_matrix

        # TODO (b): a recurrent layer (nn.RNN, nn.LSTM or nn.GRU) of hidden size 64, and a linear layer
        raise NotImplementedError("RNNBinaryClassificationModel.__init__")

    def forward(self, inputs):
        """
        Takes in a batch of data of shape (N, max_sequence_length). Returns a tensor of shape (N, 1), where each
        element corresponds to the prediction for the corresponding sequence.
        :param inputs: Tensor of shape (N, max_sequence_length) containing N sequences to make predictions for.
        :return: Tensor of predictions for each sequence of shape (N, 1).
        """
        # TODO (b)
        raise NotImplementedError("forward")

    def loss(self, logits, targets):
        """
        Computes the binary cross-entropy loss.
        :param logits: Raw predictions from the model of shape (N, 1)
        :param targets: True labels of shape (N, 1)
        :return: Binary cross entropy loss between logits and targets as a scalar tensor.
        """
        # TODO (c)
        raise NotImplementedError("loss")

    def accuracy(self, logits, targets):
        """
        Computes the accuracy, i.e number of correct predictions / N.
        :param logits: Raw predictions from the model of shape (N, 1)
        :param targets: True labels of shape (N, 1)
        :return: Accuracy as a scalar tensor.
        """
        # TODO (c)
        raise NotImplementedError("accuracy")


# Training parameters
# TODO (d): choose these. With a good learning rate you should not need more than 16 epochs.
TRAINING_BATCH_SIZE = None
NUM_EPOCHS = None
LEARNING_RATE = None

# Batch size for validation, this only affects performance.
VAL_BATCH_SIZE = 128
