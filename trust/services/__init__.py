"""State changes of the money core; each public function is one atomic action."""
