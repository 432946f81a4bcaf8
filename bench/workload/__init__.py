"""The bank workload's parts (bench/bank_workload.py runs them): the PostgreSQL cluster, the web and
worker processes, the community, the clients, the faults and the checker."""
