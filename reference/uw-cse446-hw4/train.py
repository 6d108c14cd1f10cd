"""Provided starter code of A5: trains the model of hw4_a5.py on SST-2 and reports validation metrics.

Run `python train.py` with glove.6B.50d.txt and the SST-2 folder next to it. Students receive this
file unchanged; the autograder grades with its own copy.
"""

import torch
from torch import optim
from torch.utils.data import DataLoader

from hw4_a5 import (LEARNING_RATE, NUM_EPOCHS, TRAINING_BATCH_SIZE, VAL_BATCH_SIZE,
                    RNNBinaryClassificationModel, collate_fn)
from util import SST2Dataset, load_embedding_matrix


def evaluate(model, loader):
    """(mean loss, accuracy) of `model` over `loader`, weighting each batch by its size."""
    model.eval()
    loss, correct, seen = 0.0, 0.0, 0
    with torch.no_grad():
        for sentences, labels in loader:
            logits = model(sentences)
            loss += model.loss(logits, labels).item() * len(logits)
            correct += model.accuracy(logits, labels).item() * len(logits)
            seen += len(logits)
    return loss / seen, correct / seen


def main(train_path="SST-2/train.tsv", dev_path="SST-2/dev.tsv", glove_path="glove.6B.50d.txt"):
    train_dataset = SST2Dataset(train_path)
    val_dataset = SST2Dataset(dev_path, train_dataset.vocab, train_dataset.reverse_vocab)
    train_loader = DataLoader(train_dataset, batch_size=TRAINING_BATCH_SIZE, collate_fn=collate_fn, shuffle=True)
    val_loader = DataLoader(val_dataset, batch_size=VAL_BATCH_SIZE, collate_fn=collate_fn)

    print("Data examples:")
    for index in torch.randperm(len(train_dataset))[:8].tolist():
        sequence, label = train_dataset[index]
        sentiment = "Positive" if label.item() == 1 else "Negative"
        print(f"Sentiment: {sentiment}. Sentence: {train_dataset.indices_to_tokens(sequence)}")
    print()

    model = RNNBinaryClassificationModel(load_embedding_matrix(train_dataset.vocab, glove_path))
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    best = None
    for epoch in range(NUM_EPOCHS):
        model.train()
        train_loss, train_correct, train_seen = 0.0, 0.0, 0
        for sentences, labels in train_loader:
            logits = model(sentences)
            loss = model.loss(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * len(logits)
            train_correct += model.accuracy(logits, labels).item() * len(logits)
            train_seen += len(logits)
        val_loss, val_accuracy = evaluate(model, val_loader)
        print(f"Epoch {epoch + 1}/{NUM_EPOCHS}: train loss {train_loss / train_seen:.4f}, "
              f"train accuracy {train_correct / train_seen:.4f}, "
              f"validation loss {val_loss:.4f}, validation accuracy {val_accuracy:.4f}")
        if best is None or val_loss < best[0]:
            best = (val_loss, val_accuracy, train_loss / train_seen, train_correct / train_seen)
    print(f"Best validation loss {best[0]:.4f} (validation accuracy {best[1]:.4f}, "
          f"training loss {best[2]:.4f}, training accuracy {best[3]:.4f})")


if __name__ == "__main__":
    main()
