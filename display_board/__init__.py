"""The hall's display boards: a Kivy shell over a plain-Python view-model and the board feed."""
