"""A1, conceptual questions: True or False for each of (a) to (e). Justify them in your PDF.

Replace each None with True or False. A question left at None scores 0 ("not answered").
"""

ANSWERS = {
    "a": None,  # TODO: True or False
    "b": None,  # TODO: True or False
    "c": None,  # TODO: True or False
    "d": None,  # TODO: True or False
    "e": None,  # TODO: True or False
}
