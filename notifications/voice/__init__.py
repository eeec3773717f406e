"""Voice: automatic voice notification calls that the callee answers with the keypad, one module per provider."""
