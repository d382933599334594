"""Build benchmark tasks from papers and reviews (`abplan dataset`)."""
