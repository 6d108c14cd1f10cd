"""Provided starter code of A5 (SST-2): the vocabulary, the data set and the GloVe embedding matrix.

Students receive this file unchanged; the autograder grades with its own copy, so changes made
here are not seen by the grader.

Vocabulary order: "[pad]" is 0, "[unk]" is 1, then every lowercased token of the training
sentences in order of first occurrence (file order, left to right). The vocabulary is built
from the file each time; nothing is cached on disk.
"""

from collections import Counter

import torch
from torch.utils.data import Dataset


def load_embedding_matrix(vocab, glove_file_path="glove.6B.50d.txt"):
    """A (len(vocab), D) float32 matrix: row i is the GloVe vector of the token with id i.

    Tokens absent from the GloVe file get a random vector drawn from a normal distribution with
    the mean and standard deviation of all the vectors found; "[pad]" gets zeros. Any dimension D
    works: it is read from the file.
    """
    embeddings = {}
    dim = None
    with open(glove_file_path, encoding="utf-8") as f:
        for line in f:
            token, _, rest = line.rstrip("\n").rstrip(" ").partition(" ")
            if token not in vocab or token in embeddings:
                continue
            vector = torch.tensor([float(x) for x in rest.split(" ")], dtype=torch.float32)
            if dim is not None and vector.numel() != dim:
                raise ValueError(f"{glove_file_path}: the vector of {token!r} has {vector.numel()} numbers, not {dim}")
            dim = vector.numel()
            embeddings[token] = vector
    if not embeddings:
        raise ValueError(f"{glove_file_path} has no vector for any word of the vocabulary")

    found = torch.stack(list(embeddings.values()))
    embedding_matrix = torch.normal(found.mean().item(), found.std().item(), (len(vocab), dim))
    for token, vector in embeddings.items():
        embedding_matrix[vocab[token]] = vector
    embedding_matrix[vocab["[pad]"]] = 0.0
    return embedding_matrix


class SST2Dataset(Dataset):
    """The sentences of one SST-2 `.tsv` file as token ids, with labels of shape (1,).

    Pass the training set's `vocab` and `reverse_vocab` to encode the dev set with the same ids.
    """

    def __init__(self, path, vocab=None, reverse_vocab=None):
        super().__init__()
        sentences, labels = [], []
        with open(path, encoding="utf-8") as f:
            next(f)  # header: sentence<TAB>label
            for line in f:
                sentence, label = line.rstrip("\n").split("\t")
                sentences.append(sentence.strip().split(" "))
                labels.append([int(label)])

        if vocab is None:
            vocab = self.build_vocab(sentences)
            reverse_vocab = None
        if reverse_vocab is None:
            reverse_vocab = {index: token for token, index in vocab.items()}
        self.vocab = vocab
        self.reverse_vocab = reverse_vocab

        self.sentences = [self.tokens_to_indices(sentence) for sentence in sentences]
        self.labels = torch.tensor(labels)

    def __getitem__(self, index):
        return self.sentences[index], self.labels[index]

    def __len__(self):
        return len(self.sentences)

    @staticmethod
    def build_vocab(sentences, unk_cutoff=1):
        """{"[pad]": 0, "[unk]": 1, then tokens seen at least unk_cutoff times, by first occurrence}."""
        counts = Counter(token.lower() for sentence in sentences for token in sentence)
        vocab = {"[pad]": 0, "[unk]": 1}
        for token, count in counts.items():
            if count >= unk_cutoff:
                vocab[token] = len(vocab)
        return vocab

    def tokens_to_indices(self, tokens):
        """A 1-D LongTensor of the ids of `tokens`; unknown tokens get the id of "[unk]"."""
        unk = self.vocab["[unk]"]
        return torch.tensor([self.vocab.get(token.lower(), unk) for token in tokens], dtype=torch.long)

    def indices_to_tokens(self, indices):
        """The tokens of `indices` joined by spaces, padding left out."""
        tokens = []
        for index in indices:
            if torch.is_tensor(index):
                index = index.item()
            token = self.reverse_vocab.get(index, "[unk]")
            if token != "[pad]":
                tokens.append(token)
        return " ".join(tokens)
