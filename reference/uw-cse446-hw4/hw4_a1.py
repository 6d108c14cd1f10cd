"""A1, conceptual questions: True or False for each of (a) to (e). Justify them in your PDF."""

ANSWERS = {
    "a": True,   # non-convex loss: gradient descent may stop at a local minimum or saddle point
    "b": False,  # zero weights make every unit of a layer compute and learn the same thing
    "c": True,   # without non-linearities the network is one linear map
    "d": False,  # backward costs a small constant times the forward pass
    "e": True,   # a linear autoencoder spans PCA's subspace; non-linear ones can do better
}
