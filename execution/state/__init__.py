"""Trading state: local JSON (always written first) and the Firestore mirror."""
