# placeholder for the project's sources
