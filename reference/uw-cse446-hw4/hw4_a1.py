"""A1, conceptual questions: True or False for each of (a) to (e). Justify them in your PDF."""

ANSWERS = {
    "a": True,
    "b": False,
    "c": True,
    "d": False,
    "e": True,
}

# Not part of the student's interface (the template has no WHY): the autograder shows these after
# the due date, beside a wrong answer.
WHY = {
    "a": "the loss of a deep network is non-convex, so gradient descent may stop at a local minimum",
    "b": "all-zero weights make the units of a layer identical, so they never learn different features",
    "c": "without non-linear activations, a stack of linear layers is one linear map",
    "d": "the backward pass costs about as much as the forward pass (a small constant factor)",
    "e": "a non-linear autoencoder can represent more than PCA's linear subspace of the same size",
}
