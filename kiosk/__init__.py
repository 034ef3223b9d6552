"""The touch-screen ticket kiosk (取号机): a thin Kivy shell over a view-model and a network client."""
