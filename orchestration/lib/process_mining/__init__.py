"""Process mining read from the marts (models/marts/process_mining): the directly-follows graph
picture. Definitions live in the marts' doc blocks; nothing here recomputes a metric."""
