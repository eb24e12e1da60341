"""Services own the inventory's workflows (writes); views, tasks and commands call them."""
