"""Settlement files exchanged with banks: payment instructions out, statements back in."""
