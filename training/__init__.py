"""PixelPainter's trainer: the pix2pix recipe end to end, resumable and measured."""
